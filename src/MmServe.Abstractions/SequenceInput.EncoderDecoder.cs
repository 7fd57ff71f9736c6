namespace MmServe.Abstractions;

public sealed partial record SequenceInput
{
    /// <summary>
    /// Encoder-decoder models only: the sequence's encoder output, set on its first decoder step (the prefill row,
    /// <see cref="StartPosition"/> 0) and null on every later step. The executor computes the cross-attention KV from
    /// it in that step and keeps it per sequence until <see cref="IModelExecutor.Release"/>.
    /// </summary>
    public EncoderOutput? Encoder { get; init; }
}
