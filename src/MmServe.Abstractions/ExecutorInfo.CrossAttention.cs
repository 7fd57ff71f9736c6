namespace MmServe.Abstractions;

public sealed partial record ExecutorInfo
{
    /// <summary>
    /// Set for a gated cross-attention executor: what it accepts as <see cref="SequenceInput.CrossAttention"/>. Null
    /// for every other executor, which refuses such media.
    /// </summary>
    public CrossAttentionLimits? CrossAttention { get; init; }
}

/// <param name="TokensPerItem">Media tokens per item.</param>
/// <param name="Width">Width of one media token.</param>
/// <param name="MaxItems">Most items one sequence may carry.</param>
public sealed record CrossAttentionLimits(int TokensPerItem, int Width, int MaxItems);
