namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// PIL's <c>Image.resize((width, height), resample)</c> for 8-bit RGB images, byte for byte (Pillow 9.x-11.x,
/// libImaging/Resample.c and the NEAREST path of Geometry.c). The HF Python image processors resize with it, so
/// matching it exactly is what makes their pixel tensors reproducible.
/// </summary>
/// <remarks>
/// The convolution filters resample in two separable passes, horizontal first, each rounding to uint8: the
/// horizontal pass only produces the rows the vertical pass will read, and a pass is skipped when its axis keeps its
/// size. Weights are PIL's 22-bit fixed point; sums start at half a unit (rounding) and are clipped to 0..255.
/// </remarks>
public static class PilResize
{
    private const int Channels = RgbImage.BytesPerPixel;

    /// <summary>Returns a new image of <paramref name="width"/> x <paramref name="height"/> pixels.</summary>
    public static RgbImage Resize(RgbImage image, int width, int height, PilResampling filter)
    {
        ArgumentNullException.ThrowIfNull(image);
        var output = new byte[checked(width * height * Channels)];
        Resize(image.Pixels.Span, image.Width, image.Height, output, width, height, filter);
        return new RgbImage(width, height, output);
    }

    /// <summary>Resizes row-major RGB24 <paramref name="rgb"/> into <paramref name="destination"/> (exactly the output's size).</summary>
    public static void Resize(
        ReadOnlySpan<byte> rgb,
        int width,
        int height,
        Span<byte> destination,
        int outputWidth,
        int outputHeight,
        PilResampling filter)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputHeight);
        if (rgb.Length != (long)width * height * Channels)
        {
            throw new ArgumentException($"Expected {(long)width * height * Channels} RGB24 bytes for {width}x{height}, got {rgb.Length}.", nameof(rgb));
        }

        if (destination.Length != (long)outputWidth * outputHeight * Channels)
        {
            throw new ArgumentException(
                $"Destination must hold exactly {(long)outputWidth * outputHeight * Channels} bytes, got {destination.Length}.",
                nameof(destination));
        }

        if (!Enum.IsDefined(filter))
        {
            throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown PIL resampling filter.");
        }

        // Image.resize returns a copy when the size is unchanged, whatever the filter.
        if (width == outputWidth && height == outputHeight)
        {
            rgb.CopyTo(destination);
            return;
        }

        if (filter == PilResampling.Nearest)
        {
            ResizeNearest(rgb, width, height, destination, outputWidth, outputHeight);
            return;
        }

        var horizontal = PilResampleCoefficients.Compute(width, outputWidth, filter);
        var vertical = PilResampleCoefficients.Compute(height, outputHeight, filter);
        bool needHorizontal = width != outputWidth;
        bool needVertical = height != outputHeight;

        if (!needHorizontal)
        {
            ResampleVertical(rgb, width, rowOffset: 0, vertical, destination);
            return;
        }

        // Only rows firstRow .. lastRow - 1 are read by the vertical pass, so only those are resampled horizontally.
        int firstRow = vertical.Start(0);
        int lastRow = vertical.Start(outputHeight - 1) + vertical.Taps(outputHeight - 1).Length;
        if (!needVertical)
        {
            ResampleHorizontal(rgb, width, firstRow, lastRow - firstRow, horizontal, destination);
            return;
        }

        var intermediate = new byte[checked((lastRow - firstRow) * outputWidth * Channels)];
        ResampleHorizontal(rgb, width, firstRow, lastRow - firstRow, horizontal, intermediate);
        ResampleVertical(intermediate, outputWidth, rowOffset: firstRow, vertical, destination);
    }

    /// <summary>clip8: the sum is in 22-bit fixed point; PIL's lookup table clamps the integer part to 0..255.</summary>
    private static byte Clip8(int sum) => (byte)Math.Clamp(sum >> PilResampleCoefficients.PrecisionBits, 0, 255);

    private static void ResampleHorizontal(
        ReadOnlySpan<byte> source,
        int sourceWidth,
        int firstRow,
        int rows,
        PilResampleCoefficients coefficients,
        Span<byte> target)
    {
        const int half = 1 << (PilResampleCoefficients.PrecisionBits - 1);
        int outputWidth = coefficients.OutputSize;
        for (int y = 0; y < rows; y++)
        {
            var row = source.Slice((firstRow + y) * sourceWidth * Channels, sourceWidth * Channels);
            var outputRow = target.Slice(y * outputWidth * Channels, outputWidth * Channels);
            for (int x = 0; x < outputWidth; x++)
            {
                var taps = coefficients.Taps(x);
                var window = row.Slice(coefficients.Start(x) * Channels, taps.Length * Channels);
                int r = half, g = half, b = half;
                for (int i = 0; i < taps.Length; i++)
                {
                    int k = taps[i];
                    r += window[3 * i] * k;
                    g += window[(3 * i) + 1] * k;
                    b += window[(3 * i) + 2] * k;
                }

                outputRow[3 * x] = Clip8(r);
                outputRow[(3 * x) + 1] = Clip8(g);
                outputRow[(3 * x) + 2] = Clip8(b);
            }
        }
    }

    /// <param name="rowOffset">Input row held by <paramref name="source"/>'s first row (PIL shifts the bounds by it).</param>
    private static void ResampleVertical(
        ReadOnlySpan<byte> source,
        int width,
        int rowOffset,
        PilResampleCoefficients coefficients,
        Span<byte> target)
    {
        const int half = 1 << (PilResampleCoefficients.PrecisionBits - 1);
        int rowBytes = width * Channels;
        Span<int> sums = rowBytes <= 4096 ? stackalloc int[rowBytes] : new int[rowBytes];
        for (int y = 0; y < coefficients.OutputSize; y++)
        {
            // Integer sums are exact, so accumulating row by row gives PIL's per-pixel result.
            sums.Fill(half);
            var taps = coefficients.Taps(y);
            int start = coefficients.Start(y) - rowOffset;
            for (int i = 0; i < taps.Length; i++)
            {
                int k = taps[i];
                var row = source.Slice((start + i) * rowBytes, rowBytes);
                for (int j = 0; j < rowBytes; j++)
                {
                    sums[j] += row[j] * k;
                }
            }

            var outputRow = target.Slice(y * rowBytes, rowBytes);
            for (int j = 0; j < rowBytes; j++)
            {
                outputRow[j] = Clip8(sums[j]);
            }
        }
    }

    /// <summary>
    /// PIL resizes with NEAREST through an affine transform (ImagingScaleAffine): source positions are accumulated by
    /// repeated addition of the scale in double, starting half a step in, and truncated.
    /// </summary>
    private static void ResizeNearest(ReadOnlySpan<byte> rgb, int width, int height, Span<byte> destination, int outputWidth, int outputHeight)
    {
        double xStep = (double)(float)width / outputWidth;
        double yStep = (double)(float)height / outputHeight;

        var columns = new int[outputWidth];
        int xmin = outputWidth, xmax = 0;
        double xo = xStep * 0.5;
        for (int x = 0; x < outputWidth; x++)
        {
            int xin = xo < 0.0 ? -1 : (int)xo;
            if (xin >= 0 && xin < width)
            {
                xmax = x + 1;
                if (x < xmin)
                {
                    xmin = x;
                }

                columns[x] = xin;
            }

            xo += xStep;
        }

        // PIL fills with zeros first; positions that map outside the source (never, in practice) stay black.
        destination.Clear();
        double yo = yStep * 0.5;
        for (int y = 0; y < outputHeight; y++)
        {
            int yin = yo < 0.0 ? -1 : (int)yo;
            if (yin >= 0 && yin < height)
            {
                var row = rgb.Slice(yin * width * Channels, width * Channels);
                var outputRow = destination.Slice(y * outputWidth * Channels, outputWidth * Channels);
                for (int x = xmin; x < xmax; x++)
                {
                    row.Slice(columns[x] * Channels, Channels).CopyTo(outputRow.Slice(x * Channels, Channels));
                }
            }

            yo += yStep;
        }
    }
}
