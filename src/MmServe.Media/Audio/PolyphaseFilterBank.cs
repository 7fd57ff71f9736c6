namespace MmServe.Media.Audio;

/// <summary>
/// Kaiser-windowed-sinc low-pass for a rate change by <c>L/M</c> (reduced), laid out as one row of
/// <see cref="Taps"/> coefficients per fractional input position ("phase").
/// </summary>
/// <remarks>
/// Design, relative to the lower of the two Nyquist frequencies (so it is both the anti-alias filter
/// when decimating and the anti-image filter when interpolating):
/// <list type="bullet">
/// <item>pass band up to <see cref="PassbandEdge"/> (90 %), stop band from <see cref="StopbandEdge"/>
/// (100 %): nothing at or above the new Nyquist folds back, and the cutoff (-6 dB) sits at 95 %;</item>
/// <item>stop-band attenuation <see cref="StopbandAttenuationDb"/> dB, hence Kaiser β = 0.1102·(A − 8.7) ≈ 7.86;</item>
/// <item>length from Kaiser's formula N = (A − 7.95) / (14.36·Δf) + 1, Δf the transition width in cycles
/// per input sample: ≈ 101 taps when upsampling (8 kHz → 16 kHz), ≈ 278 for 44.1 kHz → 16 kHz;</item>
/// <item>each phase is scaled to sum to 1, so DC passes with gain exactly 1 whatever the phase.</item>
/// </list>
/// When <c>L ≤ </c><see cref="MaxExactPhases"/> every output lands exactly on one of the L phases (true
/// polyphase: 44.1 kHz → 16 kHz is L = 160, M = 441). Otherwise the kernel is tabulated at
/// <see cref="InterpolatedPhases"/> positions per input sample and adjacent rows are blended linearly; the
/// blending error is about 1e-5 of the peak (below the 80 dB stop band).
/// </remarks>
internal sealed class PolyphaseFilterBank
{
    public const double PassbandEdge = 0.90;
    public const double StopbandEdge = 1.0;
    public const double StopbandAttenuationDb = 80;
    public const int MaxExactPhases = 256;
    public const int InterpolatedPhases = 256;

    private readonly float[] _coefficients;

    public PolyphaseFilterBank(int up, int down)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(up);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(down);
        double lowerNyquist = 0.5 * Math.Min(1.0, (double)up / down);
        double cutoff = lowerNyquist * (PassbandEdge + StopbandEdge) / 2;
        double transition = lowerNyquist * (StopbandEdge - PassbandEdge);
        double beta = 0.1102 * (StopbandAttenuationDb - 8.7);
        int length = (int)Math.Ceiling((StopbandAttenuationDb - 7.95) / (14.36 * transition)) + 1;
        HalfWidth = (length + 1) / 2;
        Taps = 2 * HalfWidth;
        IsExact = up <= MaxExactPhases;
        Phases = IsExact ? up : InterpolatedPhases;

        // The interpolated table carries one extra row (phase 1.0) so that row p + 1 always exists.
        int rows = IsExact ? Phases : Phases + 1;
        _coefficients = new float[rows * Taps];
        var kernel = new KaiserSincKernel(cutoff, HalfWidth, beta);
        var row = new double[Taps];
        for (int p = 0; p < rows; p++)
        {
            double phase = (double)p / Phases;
            double sum = 0;
            for (int j = 0; j < Taps; j++)
            {
                // Tap j multiplies input sample i0 - W + 1 + j; its distance from the output position i0 + phase.
                row[j] = kernel.Evaluate(phase + HalfWidth - 1 - j);
                sum += row[j];
            }

            var destination = _coefficients.AsSpan(p * Taps, Taps);
            for (int j = 0; j < Taps; j++)
            {
                destination[j] = (float)(row[j] / sum);
            }
        }
    }

    /// <summary>W: taps reach W - 1 input samples before and W after the output position's integer part.</summary>
    public int HalfWidth { get; }

    public int Taps { get; }

    /// <summary>Rows per input sample: L when exact, otherwise <see cref="InterpolatedPhases"/>.</summary>
    public int Phases { get; }

    public bool IsExact { get; }

    public ReadOnlySpan<float> Row(int phase) => _coefficients.AsSpan(phase * Taps, Taps);
}
