namespace MmServe.Abstractions;

public sealed partial record SequenceInput
{
    /// <summary>
    /// Gated cross-attention models only: the sequence's media, set on its prefill row (<see cref="StartPosition"/> 0)
    /// and null on every later step. The executor computes the cross-attention KV from it once, in that step, and
    /// keeps it per sequence until <see cref="IModelExecutor.Release"/>. Null for a request without media.
    /// </summary>
    public CrossAttentionMedia? CrossAttention { get; init; }
}
