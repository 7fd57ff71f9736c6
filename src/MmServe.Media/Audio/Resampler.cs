namespace MmServe.Media.Audio;

/// <summary>
/// Band-limited sample-rate conversion by a rational factor (polyphase Kaiser-windowed sinc; the filter
/// is documented on <see cref="PolyphaseFilterBank"/>). Equal rates are an exact copy. Output sample
/// <c>n</c> sits at input time <c>n·source/target</c>, so the first samples line up; samples beyond the
/// input are zeros.
/// </summary>
/// <remarks>Immutable after construction and thread-safe; the filter is designed once per instance.</remarks>
public sealed class Resampler
{
    /// <summary>Above any real audio rate; keeps <c>length·L</c> products far from overflow.</summary>
    public const int MaxRate = 1_000_000;

    /// <summary>Largest decimation factor; the filter length (and its table) grows linearly with it.</summary>
    public const int MaxDownsamplingRatio = 64;

    private readonly PolyphaseFilterBank? _filter;
    private readonly int _up;
    private readonly int _down;

    public Resampler(int sourceRate, int targetRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetRate);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sourceRate, MaxRate);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(targetRate, MaxRate);
        if (sourceRate > (long)targetRate * MaxDownsamplingRatio)
        {
            throw new ArgumentOutOfRangeException(
                nameof(targetRate), targetRate, $"Downsampling by more than {MaxDownsamplingRatio}x is not supported.");
        }

        SourceRate = sourceRate;
        TargetRate = targetRate;
        int divisor = GreatestCommonDivisor(sourceRate, targetRate);
        _up = targetRate / divisor;
        _down = sourceRate / divisor;
        _filter = sourceRate == targetRate ? null : new PolyphaseFilterBank(_up, _down);
    }

    public int SourceRate { get; }

    public int TargetRate { get; }

    /// <summary>Number of taps per output sample (0 when the rates match).</summary>
    public int FilterTaps => _filter?.Taps ?? 0;

    /// <summary><c>ceil(inputLength · target / source)</c>: every input sample is covered.</summary>
    public long OutputLength(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);
        return (((long)inputLength * _up) + _down - 1) / _down;
    }

    /// <summary>Convenience for a one-off conversion; reuse a <see cref="Resampler"/> to keep its filter.</summary>
    public static float[] Resample(ReadOnlySpan<float> input, int sourceRate, int targetRate) =>
        new Resampler(sourceRate, targetRate).Process(input);

    public float[] Process(ReadOnlySpan<float> input)
    {
        if (_filter is null)
        {
            return input.ToArray();
        }

        long outputLength = OutputLength(input.Length);
        if (outputLength > Array.MaxLength)
        {
            throw new ArgumentException($"Resampling {input.Length} samples would produce more than {Array.MaxLength}.", nameof(input));
        }

        // Zero padding on both sides turns the edge cases into the ordinary loop.
        int halfWidth = _filter.HalfWidth;
        var padded = new float[input.Length + (2 * halfWidth)];
        input.CopyTo(padded.AsSpan(halfWidth - 1));
        var output = new float[outputLength];
        int taps = _filter.Taps;
        for (long n = 0; n < output.Length; n++)
        {
            long position = n * _down;
            int start = (int)(position / _up);
            long remainder = position % _up;
            var window = padded.AsSpan(start, taps);
            output[n] = _filter.IsExact
                ? AudioSpanMath.Dot(window, _filter.Row((int)remainder))
                : Interpolate(window, remainder);
        }

        return output;
    }

    private float Interpolate(ReadOnlySpan<float> window, long remainder)
    {
        double phase = (double)remainder * _filter!.Phases / _up;
        int row = (int)phase;
        float fraction = (float)(phase - row);
        float below = AudioSpanMath.Dot(window, _filter.Row(row));
        float above = AudioSpanMath.Dot(window, _filter.Row(row + 1));
        return below + (fraction * (above - below));
    }

    private static int GreatestCommonDivisor(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
