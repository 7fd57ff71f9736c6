namespace MmServe.Media.Images;

/// <summary>
/// Filter taps for one axis of the "bilinear_antialias" resize, i.e. PyTorch's
/// <c>_upsample_bilinear2d_aa</c> / PIL BILINEAR: a triangle filter widened by the scale when downscaling.
/// Computed once per (input size, output size) and shared by all rows or columns of that axis.
/// </summary>
internal sealed class AntialiasResizeWeights
{
    private readonly int[] _starts;
    private readonly int[] _counts;
    private readonly float[] _weights;

    private AntialiasResizeWeights(int inputSize, int outputSize, int stride, int[] starts, int[] counts, float[] weights)
    {
        InputSize = inputSize;
        OutputSize = outputSize;
        Stride = stride;
        _starts = starts;
        _counts = counts;
        _weights = weights;
    }

    public int InputSize { get; }

    public int OutputSize { get; }

    /// <summary>Distance between the tap rows of consecutive outputs in the packed weight array.</summary>
    public int Stride { get; }

    /// <summary>First input index read by output <paramref name="outputIndex"/> (<c>xmin</c> in the spec).</summary>
    public int Start(int outputIndex) => _starts[outputIndex];

    /// <summary>Normalized weights for inputs <c>Start(i) .. Start(i) + Taps(i).Length - 1</c>.</summary>
    public ReadOnlySpan<float> Taps(int outputIndex) => _weights.AsSpan(outputIndex * Stride, _counts[outputIndex]);

    public static AntialiasResizeWeights Compute(int inputSize, int outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);

        // Evaluated in double and rounded once to float. Torch evaluates these in float; the two differ by
        // about one float ulp per weight, and a tap that lands exactly on the support edge has weight 0
        // either way, so xmin/xmax rounding differences cannot change the result.
        double scale = (double)inputSize / outputSize;
        double support = scale >= 1.0 ? scale : 1.0;
        double inverseScale = scale >= 1.0 ? 1.0 / scale : 1.0;

        // xmax - xmin <= (center + support + 0.5) - (center - support + 0.5) + 1.
        int stride = (int)Math.Ceiling(2 * support) + 1;
        var starts = new int[outputSize];
        var counts = new int[outputSize];
        var weights = new float[outputSize * stride];
        Span<double> raw = stride <= 512 ? stackalloc double[stride] : new double[stride];

        for (int i = 0; i < outputSize; i++)
        {
            double center = scale * (i + 0.5);

            // (int) truncates toward zero, exactly like the static_cast<int64_t> in the reference.
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inputSize);
            int count = xmax - xmin;

            double total = 0;
            for (int j = 0; j < count; j++)
            {
                raw[j] = Math.Max(0.0, 1.0 - Math.Abs((j + xmin - center + 0.5) * inverseScale));
                total += raw[j];
            }

            var row = weights.AsSpan(i * stride, count);
            for (int j = 0; j < count; j++)
            {
                row[j] = total != 0 ? (float)(raw[j] / total) : 0f;
            }

            starts[i] = xmin;
            counts[i] = count;
        }

        return new AntialiasResizeWeights(inputSize, outputSize, stride, starts, counts, weights);
    }
}
