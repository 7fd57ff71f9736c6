namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// What Phi-3-V makes of an image of a given size: the padded HD image's <c>image_sizes</c> entry [Height, Width]
/// (multiples of the tile), the number of crops it is cut into, and <c>num_img_tokens</c> for the prompt.
/// </summary>
public readonly record struct Phi3VImageSize(int Height, int Width, int Crops, int NumImageTokens);

/// <summary>
/// One image's <c>pixel_values</c>: <see cref="Data"/> is float32 [1 + Crops, 3, T, T] (T = 336), the global image
/// first, then the crops row by row. Python pads every image to [1 + num_crops, 3, T, T] with zeros:
/// <see cref="CopyPadded"/> writes that form.
/// </summary>
public sealed record Phi3VPixelValues(float[] Data, Phi3VImageSize Size, int TileSize, int MaxCrops)
{
    public int Crops => Size.Crops;

    /// <summary>Floats in the padded form: (1 + MaxCrops) * 3 * T * T.</summary>
    public int PaddedLength => (1 + MaxCrops) * 3 * TileSize * TileSize;

    public float[] ToPadded()
    {
        var padded = new float[PaddedLength];
        CopyPadded(padded);
        return padded;
    }

    /// <summary>Writes [1 + MaxCrops, 3, T, T] (real crops, then zeros) into a slice of a batch buffer.</summary>
    public void CopyPadded(Span<float> destination)
    {
        if (destination.Length != PaddedLength)
        {
            throw new ArgumentException($"Destination must hold exactly {PaddedLength} floats, got {destination.Length}.", nameof(destination));
        }

        Data.CopyTo(destination);
        destination[Data.Length..].Clear();
    }
}

/// <summary>
/// Phi-3-vision / Phi-3.5-vision's <c>Phi3VImageProcessor</c> (image_processing_phi3_v.py) for one decoded RGB image.
/// HD_transform: a portrait image is transposed; the largest <c>scale</c> with <c>scale * ceil(scale / ratio) &lt;=
/// num_crops</c> sets the width to <c>scale * 336</c> and the height to <c>int(width / ratio)</c>; PIL bilinear resize
/// (torchvision's resize on a PIL image); white rows centred above and below up to a multiple of 336; transposed back.
/// Then ToTensor (/ 255) and Normalize in float32, the global image by torch bicubic interpolation to 336 x 336, and
/// the 336 x 336 crops. Matches Python to float32 rounding (docs/image-processors.md).
/// </summary>
/// <remarks>Thread-safe; create one per model.</remarks>
public sealed class Phi3VImageProcessor
{
    // ToTensor + Normalize of a uint8 sample: ((float)v / 255 - mean) / std, all float32, per channel.
    private readonly float[][] _lookup;

    /// <exception cref="ArgumentException">The config is invalid.</exception>
    public Phi3VImageProcessor(Phi3VImageProcessorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _lookup = [.. Enumerable.Range(0, 3).Select(BuildLookup)];
    }

    public Phi3VImageProcessorConfig Config { get; }

    private int Tile => Config.TileSize;

    /// <summary>
    /// image_sizes / num_img_tokens from the input size alone (calc_hd_transform_size and
    /// calc_num_image_tokens_from_image_size): what the prompt needs before the image is decoded.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The aspect ratio is so extreme that the resized short side would be 0 pixels (more than num_crops * 336 : 1);
    /// Python fails there too.
    /// </exception>
    public Phi3VImageSize ImageSizeFor(int width, int height)
    {
        var plan = Plan(width, height);
        int padded = plan.PaddedHeight;
        return plan.Transposed ? SizeOf(plan.ResizedWidth, padded) : SizeOf(padded, plan.ResizedWidth);
    }

    public Phi3VPixelValues Process(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var hd = HdTransform(image);
        var size = SizeOf(hd.Height, hd.Width);
        int tile = Tile;
        int tilePlane = tile * tile;
        var data = new float[checked((1 + size.Crops) * 3 * tilePlane)];
        var pixels = hd.Pixels.Span;

        // Crops, row-major over the HD image: reshape(1, 3, h/T, T, w/T, T).permute(0, 2, 4, 1, 3, 5).
        int columns = hd.Width / tile;
        for (int crop = 0; crop < size.Crops; crop++)
        {
            int top = crop / columns * tile;
            int left = crop % columns * tile;
            for (int channel = 0; channel < 3; channel++)
            {
                var lookup = _lookup[channel];
                var target = data.AsSpan(((1 + crop) * 3 * tilePlane) + (channel * tilePlane), tilePlane);
                for (int y = 0; y < tile; y++)
                {
                    int source = (((top + y) * hd.Width) + left) * 3;
                    for (int x = 0; x < tile; x++)
                    {
                        target[(y * tile) + x] = lookup[pixels[source + (3 * x) + channel]];
                    }
                }
            }
        }

        // The global image: bicubic interpolation of the normalized HD image down to one tile.
        var plane = new float[hd.Width * hd.Height];
        for (int channel = 0; channel < 3; channel++)
        {
            var lookup = _lookup[channel];
            for (int i = 0; i < plane.Length; i++)
            {
                plane[i] = lookup[pixels[(3 * i) + channel]];
            }

            TorchBicubic.Resize(plane, hd.Height, hd.Width, data.AsSpan(channel * tilePlane, tilePlane), tile, tile);
        }

        return new Phi3VPixelValues(data, size, tile, Config.NumCrops);
    }

    /// <summary>HD_transform on uint8 pixels: the image the crops are cut from.</summary>
    internal RgbImage HdTransform(RgbImage image)
    {
        var plan = Plan(image.Width, image.Height);

        // PIL resizes the transposed image, so its horizontal pass runs along the original columns: transposing
        // the pixels (not swapping the passes' roles) keeps the uint8 rounding between the passes identical.
        var work = plan.Transposed ? Transpose(image) : image;
        if (work.Width != plan.ResizedWidth || work.Height != plan.ResizedHeight)
        {
            work = PilResize.Resize(work, plan.ResizedWidth, plan.ResizedHeight, PilResampling.Bilinear);
        }

        // padding_336: white rows, (padded - height) / 2 of them on top, the rest below.
        var padded = new byte[plan.ResizedWidth * plan.PaddedHeight * 3];
        padded.AsSpan().Fill(255);
        work.Pixels.Span.CopyTo(padded.AsSpan(plan.TopPadding * plan.ResizedWidth * 3));
        var hd = new RgbImage(plan.ResizedWidth, plan.PaddedHeight, padded);
        return plan.Transposed ? Transpose(hd) : hd;
    }

    private Phi3VImageSize SizeOf(int height, int width)
    {
        int rows = height / Tile, columns = width / Tile;
        int tokens = (((rows * columns) + 1) * Config.NumImageTokens) + 1 + ((rows + 1) * Config.TokensPerRow);
        return new Phi3VImageSize(height, width, rows * columns, tokens);
    }

    /// <summary>The HD_transform arithmetic, in the (possibly transposed) landscape orientation, in Python's float64.</summary>
    private (bool Transposed, int ResizedWidth, int ResizedHeight, int PaddedHeight, int TopPadding) Plan(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        bool transposed = width < height;
        if (transposed)
        {
            (width, height) = (height, width);
        }

        double ratio = (double)width / height;
        int scale = 1;
        while (scale * Math.Ceiling(scale / ratio) <= Config.NumCrops)
        {
            scale++;
        }

        scale--;
        int newWidth = scale * Tile;
        int newHeight = (int)(newWidth / ratio);
        if (newHeight < 1)
        {
            throw new ArgumentException(
                $"A {width}x{height} image is too elongated for Phi-3-V with num_crops {Config.NumCrops}: it would be resized to {newWidth}x0.");
        }

        int paddedHeight = (int)Math.Ceiling((double)newHeight / Tile) * Tile;
        return (transposed, newWidth, newHeight, paddedHeight, (paddedHeight - newHeight) / 2);
    }

    /// <summary>PIL's Image.transpose(TRANSPOSE): swap x and y.</summary>
    private static RgbImage Transpose(RgbImage image)
    {
        int w = image.Width, h = image.Height;
        var source = image.Pixels.Span;
        var output = new byte[source.Length];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                source.Slice(((y * w) + x) * 3, 3).CopyTo(output.AsSpan(((x * h) + y) * 3));
            }
        }

        return new RgbImage(h, w, output);
    }

    private float[] BuildLookup(int channel)
    {
        var table = new float[256];
        float mean = (float)Config.ImageMean[channel];
        float std = (float)Config.ImageStd[channel];
        for (int value = 0; value < 256; value++)
        {
            // torchvision ToTensor divides by 255 (a true division, not a multiply by 1/255); Normalize subtracts then divides.
            table[value] = (((float)value / 255f) - mean) / std;
        }

        return table;
    }
}
