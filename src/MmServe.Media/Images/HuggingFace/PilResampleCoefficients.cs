namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// Filter taps of one axis of PIL's convolution resize (Pillow libImaging/Resample.c, <c>precompute_coeffs</c> and
/// <c>normalize_coeffs_8bpc</c>), already in the 8-bit path's fixed point. Every floating-point step is done in
/// double, in the same order as the C code, so the rounded integers are the ones PIL uses.
/// </summary>
internal sealed class PilResampleCoefficients
{
    /// <summary>32 - 8 - 2: eight bits of result, two bits of headroom for negative lobes and sums above 1.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    private readonly int[] _starts;
    private readonly int[] _counts;
    private readonly int[] _taps;

    private PilResampleCoefficients(int outputSize, int stride, int[] starts, int[] counts, int[] taps)
    {
        OutputSize = outputSize;
        Stride = stride;
        _starts = starts;
        _counts = counts;
        _taps = taps;
    }

    public int OutputSize { get; }

    /// <summary>PIL's <c>ksize</c>: the distance between the tap rows of consecutive outputs.</summary>
    public int Stride { get; }

    /// <summary>First input index read by output <paramref name="outputIndex"/> (<c>xmin</c>).</summary>
    public int Start(int outputIndex) => _starts[outputIndex];

    /// <summary>Fixed-point weights of inputs <c>Start(i) ..</c>, <c>xmax</c> of them.</summary>
    public ReadOnlySpan<int> Taps(int outputIndex) => _taps.AsSpan(outputIndex * Stride, _counts[outputIndex]);

    public static PilResampleCoefficients Compute(int inputSize, int outputSize, PilResampling filter)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        var (function, filterSupport) = Filter(filter);

        // The box is (0, 0, width, height) as C floats; in1 - in0 is exact for any real image size.
        double scale = (double)(float)inputSize / outputSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = filterSupport * filterScale;
        int stride = ((int)Math.Ceiling(support) * 2) + 1;

        var starts = new int[outputSize];
        var counts = new int[outputSize];
        var taps = new int[checked(outputSize * stride)];
        Span<double> weights = stride <= 256 ? stackalloc double[stride] : new double[stride];

        for (int xx = 0; xx < outputSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double inverseFilterScale = 1.0 / filterScale;

            // (int) truncates toward zero, exactly like the C cast ("Round the value" in the source).
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0)
            {
                xmin = 0;
            }

            int xmax = (int)(center + support + 0.5);
            if (xmax > inputSize)
            {
                xmax = inputSize;
            }

            xmax -= xmin;
            double total = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = function((x + xmin - center + 0.5) * inverseFilterScale);
                weights[x] = w;
                total += w;
            }

            var row = taps.AsSpan(xx * stride, stride);
            for (int x = 0; x < xmax; x++)
            {
                double k = total != 0.0 ? weights[x] / total : weights[x];
                row[x] = k < 0
                    ? (int)(-0.5 + (k * (1 << PrecisionBits)))
                    : (int)(0.5 + (k * (1 << PrecisionBits)));
            }

            starts[xx] = xmin;
            counts[xx] = xmax;
        }

        return new PilResampleCoefficients(outputSize, stride, starts, counts, taps);
    }

    private static (Func<double, double> Function, double Support) Filter(PilResampling filter) => filter switch
    {
        PilResampling.Box => (Box, 0.5),
        PilResampling.Bilinear => (Bilinear, 1.0),
        PilResampling.Hamming => (Hamming, 1.0),
        PilResampling.Bicubic => (Bicubic, 2.0),
        PilResampling.Lanczos => (Lanczos, 3.0),
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Not a convolution filter."),
    };

    private static double Box(double x) => x > -0.5 && x <= 0.5 ? 1.0 : 0.0;

    private static double Bilinear(double x)
    {
        if (x < 0.0)
        {
            x = -x;
        }

        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static double Hamming(double x)
    {
        if (x < 0.0)
        {
            x = -x;
        }

        if (x == 0.0)
        {
            return 1.0;
        }

        if (x >= 1.0)
        {
            return 0.0;
        }

        x *= Math.PI;

        // The C source writes 0.54f and 0.46f: float constants widened to double.
        return Math.Sin(x) / x * ((double)0.54f + ((double)0.46f * Math.Cos(x)));
    }

    /// <summary>Keys' cubic with a = -0.5, as PIL (and torch's antialiased bicubic) use.</summary>
    private static double Bicubic(double x)
    {
        const double a = -0.5;
        if (x < 0.0)
        {
            x = -x;
        }

        if (x < 1.0)
        {
            return ((((a + 2.0) * x) - (a + 3.0)) * x * x) + 1;
        }

        if (x < 2.0)
        {
            return ((((((x - 5) * x) + 8) * x) - 4) * a);
        }

        return 0.0;
    }

    private static double Sinc(double x)
    {
        if (x == 0.0)
        {
            return 1.0;
        }

        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    private static double Lanczos(double x) => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;
}
