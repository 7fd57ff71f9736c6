using System.Buffers;

namespace MmServe.Media.Images;

/// <summary>
/// Turns an <see cref="RgbImage"/> into the image encoder's input: a float32 [3, Height, Width] (NCHW
/// without the batch axis; [Height, Width, 3] for NHWC) tensor, resized with "bilinear_antialias" and normalized
/// per channel, channels in R, G, B (or B, G, R) order.
/// Matches torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=True):
/// a horizontal pass over rows, then a vertical pass over columns, each skipped when the size is unchanged.
/// </summary>
/// <remarks>Thread-safe; create one per model and reuse it.</remarks>
public sealed class ImagePreprocessor
{
    // Client images come in many sizes; keep the common ones without letting the cache grow unbounded.
    private const int WeightCacheCapacity = 128;

    private readonly ResizeWeightsCache _weights = new(WeightCacheCapacity);
    private readonly float _rescale;
    private readonly float[] _mean;
    private readonly float[] _std;

    // Tensor channel of each colour (R, G, B): where a colour plane lands, not what is computed for it.
    private readonly int[] _channelOf;
    private readonly bool _interleaved;

    /// <exception cref="ArgumentException">The spec is invalid or names an unsupported resize mode.</exception>
    public ImagePreprocessor(ImagePreprocessingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Spec = spec;

        // The reference runs on float32 tensors, so the constants are float32 as well.
        _rescale = (float)spec.RescaleFactor;
        _mean = spec.Mean.Select(value => (float)value).ToArray();
        _std = spec.Std.Select(value => (float)value).ToArray();
        _channelOf = spec.ChannelOrder == ImagePreprocessingSpec.Bgr ? [2, 1, 0] : [0, 1, 2];
        _interleaved = spec.Layout == ImagePreprocessingSpec.Nhwc;
    }

    public ImagePreprocessingSpec Spec { get; }

    /// <summary>Number of floats one image occupies: 3 * Height * Width (in either layout).</summary>
    public int OutputLength => ImagePreprocessingSpec.Channels * Spec.Height * Spec.Width;

    /// <summary>Allocates and returns the tensor for <paramref name="image"/>, in the spec's channel order and layout.</summary>
    public float[] Preprocess(RgbImage image)
    {
        var output = new float[OutputLength];
        Preprocess(image, output);
        return output;
    }

    /// <summary>
    /// Writes the tensor (in the spec's channel order and layout) into <paramref name="destination"/>, which must be exactly
    /// <see cref="OutputLength"/> long (slice a batch buffer to fill image i of a batch without copies).
    /// </summary>
    public void Preprocess(RgbImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        Preprocess(image.Pixels.Span, image.Width, image.Height, destination);
    }

    /// <summary>Same as <see cref="Preprocess(RgbImage, Span{float})"/> for raw row-major RGB24 pixels.</summary>
    public void Preprocess(ReadOnlySpan<byte> rgb, int width, int height, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (rgb.Length != (long)width * height * RgbImage.BytesPerPixel)
        {
            throw new ArgumentException($"Expected {(long)width * height * RgbImage.BytesPerPixel} RGB24 bytes for {width}x{height}, got {rgb.Length}.", nameof(rgb));
        }

        if (destination.Length != OutputLength)
        {
            throw new ArgumentException($"Destination must hold exactly {OutputLength} floats, got {destination.Length}.", nameof(destination));
        }

        int outputWidth = Spec.Width;
        int outputHeight = Spec.Height;
        var horizontal = width == outputWidth ? null : _weights.Get(width, outputWidth);
        var vertical = height == outputHeight ? null : _weights.Get(height, outputHeight);

        // Horizontal pass result: three planes of [height, outputWidth].
        int intermediatePlane = checked(height * outputWidth);
        float[] intermediate = ArrayPool<float>.Shared.Rent(checked(ImagePreprocessingSpec.Channels * intermediatePlane));
        float[] rowPlanes = ArrayPool<float>.Shared.Rent(checked(ImagePreprocessingSpec.Channels * width));

        // NCHW planes go straight into the destination; NHWC interleaves finished planes, so it needs them apart first.
        float[]? planar = _interleaved ? ArrayPool<float>.Shared.Rent(OutputLength) : null;
        try
        {
            ResizeRows(rgb, width, height, horizontal, rowPlanes, intermediate.AsSpan(0, ImagePreprocessingSpec.Channels * intermediatePlane));

            int outputPlane = outputHeight * outputWidth;
            var planes = planar is null ? destination : planar.AsSpan(0, OutputLength);
            for (int colour = 0; colour < ImagePreprocessingSpec.Channels; colour++)
            {
                var source = intermediate.AsSpan(colour * intermediatePlane, intermediatePlane);
                var target = planes.Slice(_channelOf[colour] * outputPlane, outputPlane);
                ResizeColumns(source, outputWidth, vertical, target);
                FloatSpanMath.Normalize(target, _rescale, _mean[colour], _std[colour]);
            }

            if (planar is not null)
            {
                FloatSpanMath.InterleavePlanes(planes, destination);
            }
        }
        finally
        {
            if (planar is not null)
            {
                ArrayPool<float>.Shared.Return(planar);
            }

            ArrayPool<float>.Shared.Return(rowPlanes);
            ArrayPool<float>.Shared.Return(intermediate);
        }
    }

    /// <summary>Deinterleaves each RGB row to float planes and applies the horizontal taps (or copies).</summary>
    private static void ResizeRows(
        ReadOnlySpan<byte> rgb,
        int width,
        int height,
        AntialiasResizeWeights? horizontal,
        float[] rowPlanes,
        Span<float> intermediate)
    {
        int outputWidth = intermediate.Length / ImagePreprocessingSpec.Channels / height;
        int plane = height * outputWidth;
        int rowBytes = width * RgbImage.BytesPerPixel;

        for (int y = 0; y < height; y++)
        {
            FloatSpanMath.DeinterleaveRgb(
                rgb.Slice(y * rowBytes, rowBytes),
                rowPlanes.AsSpan(0, width),
                rowPlanes.AsSpan(width, width),
                rowPlanes.AsSpan(2 * width, width));

            for (int channel = 0; channel < ImagePreprocessingSpec.Channels; channel++)
            {
                var row = rowPlanes.AsSpan(channel * width, width);
                var target = intermediate.Slice((channel * plane) + (y * outputWidth), outputWidth);
                if (horizontal is null)
                {
                    row.CopyTo(target);
                    continue;
                }

                for (int x = 0; x < outputWidth; x++)
                {
                    target[x] = FloatSpanMath.Dot(row[horizontal.Start(x)..], horizontal.Taps(x));
                }
            }
        }
    }

    /// <summary>Vertical pass for one channel: each output row is a weighted sum of whole input rows.</summary>
    private static void ResizeColumns(ReadOnlySpan<float> source, int width, AntialiasResizeWeights? vertical, Span<float> target)
    {
        if (vertical is null)
        {
            source.CopyTo(target);
            return;
        }

        for (int y = 0; y < vertical.OutputSize; y++)
        {
            var outputRow = target.Slice(y * width, width);
            var taps = vertical.Taps(y);
            int start = vertical.Start(y);

            // Accumulate in tap order, as torch does, starting from the first product rather than zero.
            FloatSpanMath.Scale(source.Slice(start * width, width), taps[0], outputRow);
            for (int j = 1; j < taps.Length; j++)
            {
                FloatSpanMath.MultiplyAdd(source.Slice((start + j) * width, width), taps[j], outputRow);
            }
        }
    }
}
