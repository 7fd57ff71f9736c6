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
        int known = Math.Min(logits.Length, bytesAfter.Length);
        for (int id = 0; id < known; id++)
        {
            if (bytesAfter[id] > limit)
            {
                logits[id] = float.NegativeInfinity;
            }
        }

        logits[known..].Fill(float.NegativeInfinity);
    }
}
