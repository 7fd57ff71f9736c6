using System.Numerics;

namespace MmServe.Engine.Constraints;

/// <summary>
/// The tokens allowed from one grammar state: a bit per token id (EOS included when the grammar is complete), and
/// the smallest and largest "bytes still needed to finish" over the states those tokens lead to, which tell
/// whether the mask is safe with the tokens a sequence has left or must be narrowed (<see cref="TokenBudget"/>).
/// </summary>
internal sealed class TokenMask(ulong[] bits, int minBytesAfter, int maxBytesAfter)
{
    /// <summary>No allowed token (EOS aside) leaves a completion shorter than this.</summary>
    public int MinBytesAfter { get; } = minBytesAfter;

    public int MaxBytesAfter { get; } = maxBytesAfter;

    /// <summary>Sets every disallowed logit (and those past the vocabulary) to -Infinity.</summary>
    public void Apply(Span<float> logits)
    {
        for (int word = 0; word * 64 < logits.Length; word++)
        {
            ulong allowed = word < bits.Length ? bits[word] : 0;
            if (allowed == ulong.MaxValue)
            {
                continue;
            }

            int end = Math.Min(logits.Length, (word + 1) * 64);
            if (allowed == 0)
            {
                // Most words of a structural state's mask are empty: a vectorised fill instead of 64 bit tests.
                logits[(word * 64)..end].Fill(float.NegativeInfinity);
                continue;
            }

            for (int id = word * 64; id < end; id++)
            {
                if ((allowed & (1UL << (id & 63))) == 0)
                {
                    logits[id] = float.NegativeInfinity;
                }
            }
        }
    }
}

/// <summary>
/// Per token of one state: the bytes a completion needs after it (EOS: -1, disallowed: short.MaxValue). With it,
/// the mask for any number of tokens left is one comparison per token, so near the end of a sequence's budget the
/// narrowed mask costs a pass over the logits instead of a walk of the token tree per step.
/// </summary>
internal sealed class TokenBudget(short[] bytesAfter)
{
    /// <summary>Sets to -Infinity every logit whose token would leave more than <paramref name="limit"/> bytes to write.</summary>
    public void Apply(Span<float> logits, int limit)
    {
        // Disallowed tokens hold short.MaxValue, so the limit must stay below it to keep them out.
        short bound = (short)Math.Clamp(limit, -1, short.MaxValue - 1);
        int known = Math.Min(logits.Length, bytesAfter.Length);
        int width = Vector<short>.Count;
        var shortBound = new Vector<short>(bound);
        var intBound = new Vector<int>(bound);
        var excluded = new Vector<float>(float.NegativeInfinity);
        int id = 0;

        // Vectorised: at 150k tokens a scalar pass costs about as much as a small model's decode step.
        for (; id + width <= known; id += width)
        {
            var costs = new Vector<short>(bytesAfter, id);
            if (!Vector.GreaterThanAny(costs, shortBound))
            {
                continue;
            }

            Vector.Widen(costs, out Vector<int> low, out Vector<int> high);
            var lowSpan = logits.Slice(id, width / 2);
            var highSpan = logits.Slice(id + (width / 2), width / 2);
            Vector.ConditionalSelect(Vector.GreaterThan(low, intBound), excluded, new Vector<float>(lowSpan)).CopyTo(lowSpan);
            Vector.ConditionalSelect(Vector.GreaterThan(high, intBound), excluded, new Vector<float>(highSpan)).CopyTo(highSpan);
        }

        for (; id < known; id++)
        {
            if (bytesAfter[id] > bound)
            {
                logits[id] = float.NegativeInfinity;
            }
        }

        logits[known..].Fill(float.NegativeInfinity);
    }
}
