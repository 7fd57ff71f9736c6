namespace MmServe.Engine.Constraints;

/// <summary>
/// The tokens allowed from one grammar state: a bit per token id (EOS included when the grammar is complete),
/// and the largest "bytes still needed to finish" over the states those tokens lead to, which tells whether the
/// mask is safe to use with the tokens a sequence has left.
/// </summary>
internal sealed class TokenMask(ulong[] bits, int maxMinBytesAfter, int allowedCount)
{
    public int MaxMinBytesAfter { get; } = maxMinBytesAfter;

    public int AllowedCount { get; } = allowedCount;

    public bool IsAllowed(int tokenId) => (uint)(tokenId >> 6) < (uint)bits.Length && (bits[tokenId >> 6] & (1UL << (tokenId & 63))) != 0;

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
