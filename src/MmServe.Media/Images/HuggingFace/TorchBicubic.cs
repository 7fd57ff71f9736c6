namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// <c>torch.nn.functional.interpolate(x, size, mode="bicubic", align_corners=False)</c> on a float32 plane, as
/// torch's CPU kernel computes it (aten UpSampleKernel.cpp, upsample_bicubic2d without antialias): Keys' cubic with
/// A = -0.75, source index <c>scale * (i + 0.5) - 0.5</c> not clamped, taps clamped to the border, no widening of
/// the kernel when downscaling. For each output pixel the four taps of each row are summed along x, then the four
/// row sums along y.
/// </summary>
/// <remarks>
/// Bit-exact against Debian's torch 1.13.1, whose AVX2 kernel GCC compiled with fused multiply-adds in particular
/// places: the fused steps below were identified by probing that build with impulses (tools/pil-oracle/README.md),
/// not read from the source, so another torch build may differ by an ulp or so (|diff| ~ 1e-7 on normalized pixels).
/// </remarks>
internal static class TorchBicubic
{
    private const float A = -0.75f;

    public static void Resize(ReadOnlySpan<float> source, int height, int width, Span<float> target, int outputHeight, int outputWidth)
    {
        if (source.Length != (long)height * width || target.Length != (long)outputHeight * outputWidth)
        {
            throw new ArgumentException("Plane sizes do not match the dimensions.");
        }

        var (rowIndices, rowWeights) = Taps(height, outputHeight);
        var (columnIndices, columnWeights) = Taps(width, outputWidth);
        Span<float> sums = stackalloc float[4];
        for (int y = 0; y < outputHeight; y++)
        {
            var ys = rowIndices.AsSpan(4 * y, 4);
            var wy = rowWeights.AsSpan(4 * y, 4);
            for (int x = 0; x < outputWidth; x++)
            {
                var xs = columnIndices.AsSpan(4 * x, 4);
                var wx = columnWeights.AsSpan(4 * x, 4);
                for (int i = 0; i < 4; i++)
                {
                    var row = source.Slice(ys[i] * width, width);
                    sums[i] = Sum(row[xs[0]], row[xs[1]], row[xs[2]], row[xs[3]], wx);
                }

                target[(y * outputWidth) + x] = Sum(sums[0], sums[1], sums[2], sums[3], wy);
            }
        }
    }

    /// <summary>The four-tap sum as the compiled kernel evaluates it: t1 * w1 first, then fused steps.</summary>
    private static float Sum(float t0, float t1, float t2, float t3, ReadOnlySpan<float> w)
    {
        float sum = MathF.FusedMultiplyAdd(t0, w[0], t1 * w[1]);
        sum = MathF.FusedMultiplyAdd(t2, w[2], sum);
        return MathF.FusedMultiplyAdd(t3, w[3], sum);
    }

    /// <summary>Per output index: the four clamped input indices and their weights (compute_indices_weights).</summary>
    internal static (int[] Indices, float[] Weights) Taps(int inputSize, int outputSize)
    {
        var indices = new int[4 * outputSize];
        var weights = new float[4 * outputSize];

        // area_pixel_compute_scale without an explicit scale factor: input / output in float. The source index is
        // formed in double; the build probed floors its float rounding but takes the fraction from the double, and
        // does not clamp it (so it can be a hair below 0; taps are clamped, weights are not).
        float scale = (float)inputSize / outputSize;
        for (int i = 0; i < outputSize; i++)
        {
            double real = ((double)scale * (i + 0.5)) - 0.5;
            int index = (int)MathF.Floor((float)real);
            float t = (float)(real - index);

            // get_cubic_upsample_coefficients
            weights[4 * i] = Convolution2(t + 1.0f);
            weights[(4 * i) + 1] = Convolution1(t);
            float opposite = 1.0f - t;
            weights[(4 * i) + 2] = Convolution1(opposite);
            weights[(4 * i) + 3] = Convolution2(opposite + 1.0f);

            for (int j = 0; j < 4; j++)
            {
                indices[(4 * i) + j] = Math.Clamp(index - 1 + j, 0, inputSize - 1);
            }
        }

        return (indices, weights);
    }

    // cubic_convolution1/2, with the multiply-adds fused where the compiled kernel fuses them.
    private static float Convolution1(float x) => (MathF.FusedMultiplyAdd(A + 2, x, -(A + 3)) * x * x) + 1;

    private static float Convolution2(float x) =>
        (MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(A, x, -(5 * A)), x, 8 * A) * x) - (4 * A);
}
