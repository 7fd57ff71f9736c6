namespace MmServe.Abstractions;

/// <summary>
/// The output of an encoder-decoder model's encoder for one request (e.g. Whisper's <c>last_hidden_state</c> of
/// its log-mel features): <see cref="Length"/> rows of <see cref="Width"/> floats, row-major. The decoder attends to
/// it through cross-attention; the executor derives the cross-attention KV from it on the sequence's first decoder
/// step and keeps that KV with the sequence until <see cref="IModelExecutor.Release"/>.
/// </summary>
public sealed record EncoderOutput
{
    public EncoderOutput(ReadOnlyMemory<float> hiddenStates, int length, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (hiddenStates.Length != (long)length * width)
        {
            throw new ArgumentException($"An encoder output of {length} x {width} needs {(long)length * width} values, not {hiddenStates.Length}.", nameof(hiddenStates));
        }

        HiddenStates = hiddenStates;
        Length = length;
        Width = width;
    }

    /// <summary>Row-major <see cref="Length"/> x <see cref="Width"/>.</summary>
    public ReadOnlyMemory<float> HiddenStates { get; }

    /// <summary>Encoder positions (Whisper: 1500 for a 30 s window).</summary>
    public int Length { get; }

    /// <summary>Width of one encoder position (the encoder's hidden size).</summary>
    public int Width { get; }
}
