namespace MmServe.Media.Images.HuggingFace;

/// <summary>One image's <c>pixel_values</c>: float32 [3, Height, Width], channels R, G, B.</summary>
public sealed record ClipPixelValues(float[] Data, int Height, int Width);

/// <summary>
/// transformers' <c>CLIPImageProcessor</c> (the PIL-based "slow" one; LLaVA's processor) for one decoded RGB image:
/// resize (shortest edge or fixed size, PIL filter on uint8), center crop (zero padding where the image is smaller),
/// rescale, normalize, channels-first float32. Results match Python to float32 rounding (see docs/image-processors.md).
/// </summary>
/// <remarks>Thread-safe and cheap to share; create one per model.</remarks>
public sealed class ClipImageProcessor
{
    /// <summary>Bound on the resized image, whose long side grows with the aspect ratio (50:1 at 336 is 16800).</summary>
    private const long MaxResizedPixels = 1L << 26;

    // Every output value is a function of one uint8 sample and its channel: rescale in float64, cast to float32, then
    // (x - mean) / std in float32, as numpy does it. A 3 x 256 table holds all of them exactly.
    private readonly float[][] _lookup;

    /// <exception cref="ArgumentException">The config is invalid.</exception>
    public ClipImageProcessor(ClipImageProcessorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _lookup = [.. Enumerable.Range(0, 3).Select(BuildLookup)];
    }

    public ClipImageProcessorConfig Config { get; }

    /// <summary>
    /// The (height, width) the image is resized to: transformers' get_resize_output_image_size. The long side is
    /// <c>int(S * long / short)</c>, Python's true division then truncation.
    /// </summary>
    public (int Height, int Width) ResizedSize(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (!Config.DoResize)
        {
            return (height, width);
        }

        var size = Config.Size;
        if (!size.KeepsAspectRatio)
        {
            return (size.Height, size.Width);
        }

        (int shorter, int longer) = width <= height ? (width, height) : (height, width);
        double newLonger = (double)((long)size.ShortestEdge * longer) / shorter;
        if (newLonger > int.MaxValue)
        {
            throw new ArgumentException($"A {width}x{height} image resized to shortest edge {size.ShortestEdge} is too large.");
        }

        return width <= height ? ((int)newLonger, size.ShortestEdge) : (size.ShortestEdge, (int)newLonger);
    }

    /// <summary>The (height, width) of the output tensor for an input of <paramref name="width"/> x <paramref name="height"/>.</summary>
    public (int Height, int Width) OutputSize(int width, int height) =>
        Config.DoCenterCrop ? (Config.CropHeight, Config.CropWidth) : ResizedSize(width, height);

    public ClipPixelValues Process(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (height, width) = OutputSize(image.Width, image.Height);
        var data = new float[checked(3 * height * width)];
        Process(image, data);
        return new ClipPixelValues(data, height, width);
    }

    /// <summary>Writes [3, H, W] into <paramref name="destination"/>, which must be exactly 3 * H * W long (<see cref="OutputSize"/>).</summary>
    public void Process(RgbImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (outHeight, outWidth) = OutputSize(image.Width, image.Height);
        if (destination.Length != 3L * outHeight * outWidth)
        {
            throw new ArgumentException($"Destination must hold exactly {3L * outHeight * outWidth} floats, got {destination.Length}.", nameof(destination));
        }

        var (resizedHeight, resizedWidth) = ResizedSize(image.Width, image.Height);
        if ((long)resizedHeight * resizedWidth > MaxResizedPixels)
        {
            throw new ArgumentException($"A {image.Width}x{image.Height} image would be resized to {resizedWidth}x{resizedHeight}, more than {MaxResizedPixels} pixels.");
        }

        // PIL returns a copy for an unchanged size, so skipping the resize changes nothing.
        var resized = (resizedWidth, resizedHeight) == (image.Width, image.Height)
            ? image
            : PilResize.Resize(image, resizedWidth, resizedHeight, Config.Resample);

        var rows = CropAxis(resizedHeight, outHeight);
        var columns = CropAxis(resizedWidth, outWidth);
        var pixels = resized.Pixels.Span;
        int plane = outHeight * outWidth;
        bool padded = rows.Length < outHeight || columns.Length < outWidth;
        for (int channel = 0; channel < 3; channel++)
        {
            var lookup = _lookup[channel];
            var target = destination.Slice(channel * plane, plane);
            if (padded)
            {
                // center_crop pads with uint8 zeros before rescale/normalize.
                target.Fill(lookup[0]);
            }

            for (int y = 0; y < rows.Length; y++)
            {
                int sourceRow = (rows.Source + y) * resizedWidth;
                var targetRow = target.Slice(((rows.Target + y) * outWidth) + columns.Target, columns.Length);
                for (int x = 0; x < columns.Length; x++)
                {
                    targetRow[x] = lookup[pixels[((sourceRow + columns.Source + x) * 3) + channel]];
                }
            }
        }
    }

    /// <summary>
    /// transformers' center_crop on one axis. A long enough axis is cut at <c>(size - crop) // 2</c>; a short one is
    /// placed at <c>ceil((crop - size) / 2)</c> in a zero-filled crop (its top/left arithmetic nets out to that).
    /// </summary>
    private static (int Source, int Target, int Length) CropAxis(int size, int crop)
    {
        if (size >= crop)
        {
            return ((size - crop) / 2, 0, crop);
        }

        return (0, (crop - size + 1) / 2, size);
    }

    private float[] BuildLookup(int channel)
    {
        var table = new float[256];
        float mean = (float)Config.ImageMean[channel];
        float std = (float)Config.ImageStd[channel];
        for (int value = 0; value < 256; value++)
        {
            // rescale: image.astype(float64) * scale, then astype(float32).
            float x = Config.DoRescale ? (float)(value * Config.RescaleFactor) : value;

            // normalize: float32 arithmetic, mean and std cast to float32.
            table[value] = Config.DoNormalize ? (x - mean) / std : x;
        }

        return table;
    }
}
