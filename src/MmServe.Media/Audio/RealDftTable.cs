namespace MmServe.Media.Audio;

/// <summary>
/// Direct real DFT of length n through precomputed cosine/sine rows, bins 0..n/2. n = 400 is not a power
/// of two; at 201 × 400 the table (1.3 MB) is small and the dot products vectorise well, so a mixed-radix
/// FFT would buy little. Angles are reduced exactly via <c>(k·j) mod n</c> before taking cos/sin.
/// </summary>
internal sealed class RealDftTable
{
    private readonly double[] _cos;
    private readonly double[] _sin;

    public RealDftTable(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 2);
        Length = length;
        Bins = (length / 2) + 1;
        var unitCos = new double[length];
        var unitSin = new double[length];
        for (int j = 0; j < length; j++)
        {
            double angle = 2 * Math.PI * j / length;
            unitCos[j] = Math.Cos(angle);
            unitSin[j] = Math.Sin(angle);
        }

        _cos = new double[Bins * length];
        _sin = new double[Bins * length];
        for (int k = 0; k < Bins; k++)
        {
            for (int j = 0; j < length; j++)
            {
                int index = (int)((long)k * j % length);
                _cos[(k * length) + j] = unitCos[index];
                _sin[(k * length) + j] = unitSin[index];
            }
        }
    }

    public int Length { get; }

    public int Bins { get; }

    /// <summary><c>power[k] = |Σ_j x[j]·e^(-2πi·k·j/n)|²</c> for k = 0..n/2.</summary>
    public void PowerSpectrum(ReadOnlySpan<double> frame, Span<double> power)
    {
        frame = frame[..Length];
        for (int k = 0; k < Bins; k++)
        {
            var (real, imaginary) = AudioSpanMath.DotPair(frame, _cos.AsSpan(k * Length, Length), _sin.AsSpan(k * Length, Length));
            power[k] = (real * real) + (imaginary * imaginary);
        }
    }
}
