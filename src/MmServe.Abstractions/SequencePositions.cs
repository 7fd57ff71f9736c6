namespace MmServe.Abstractions;

/// <summary>
/// The rotary positions of one sequence when they are not simply the token index: Qwen2-VL's M-RoPE gives every
/// prompt token a (temporal, height, width) triple computed from the media grids, and every later token the index
/// shifted by a per-sequence delta. The model adapter computes this once when it builds the prompt; the engine only
/// carries it with the request, and the executor reads it for every row it feeds, prefill or decode. Immutable.
/// </summary>
public sealed class SequencePositions
{
    private readonly long[] _prompt;

    /// <param name="axes">Position streams (3 for M-RoPE).</param>
    /// <param name="promptPositions">axes × promptLength positions, axis-major.</param>
    /// <param name="promptLength">Prompt tokens the positions cover.</param>
    /// <param name="delta">Token index <c>i ≥ promptLength</c> has position <c>i + delta</c> on every axis.</param>
    public SequencePositions(int axes, long[] promptPositions, int promptLength, long delta)
    {
        ArgumentNullException.ThrowIfNull(promptPositions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(axes);
        ArgumentOutOfRangeException.ThrowIfNegative(promptLength);
        if (promptPositions.Length != (long)axes * promptLength)
        {
            throw new ArgumentException($"Expected {axes} x {promptLength} positions, got {promptPositions.Length}.", nameof(promptPositions));
        }

        Axes = axes;
        PromptLength = promptLength;
        Delta = delta;
        _prompt = promptPositions;
    }

    public int Axes { get; }

    public int PromptLength { get; }

    /// <summary>Qwen2-VL's rope_delta: max prompt position + 1 − prompt length (≤ 0 with media, 0 for text).</summary>
    public long Delta { get; }

    /// <summary>The position of token <paramref name="index"/> on <paramref name="axis"/>.</summary>
    public long At(int axis, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if ((uint)axis >= (uint)Axes)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"The positions have {Axes} axes.");
        }

        return index < PromptLength ? _prompt[(axis * PromptLength) + index] : index + Delta;
    }

    /// <summary>The prompt positions of one axis.</summary>
    public ReadOnlySpan<long> Prompt(int axis) => _prompt.AsSpan(axis * PromptLength, PromptLength);
}
