namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// One image's or video's <c>pixel_values</c>: float32 [GridT · GridH · GridW, PatchDimension], rows ordered
/// (t, h / merge, w / merge, merge, merge), each row (channel, temporal, patch, patch) — what Qwen2-VL's vision encoder
/// takes with the grid row (GridT, GridH, GridW) in <c>grid_thw</c>.
/// </summary>
public sealed record Qwen2VLPixelValues(float[] Data, int GridT, int GridH, int GridW, int PatchDimension, int MergeSize)
{
    public int PatchCount => GridT * GridH * GridW;

    /// <summary>LLM positions this item occupies: patches / merge² (one <c>&lt;|image_pad|&gt;</c> or <c>&lt;|video_pad|&gt;</c> each).</summary>
    public int TokenCount => PatchCount / (MergeSize * MergeSize);
}

/// <summary>
/// transformers' <c>Qwen2VLImageProcessor</c> (the PIL-based "slow" one): <c>smart_resize</c> to multiples of
/// patch_size · merge_size within [min_pixels, max_pixels], PIL resize, rescale, normalize, then the frames (an image
/// tiled to temporal_patch_size identical frames; a video padded to a multiple of it by repeating its last frame) cut
/// into temporal × spatial patches and flattened in the order the vision encoder expects.
/// </summary>
/// <remarks>Thread-safe and cheap to share; create one per model.</remarks>
public sealed class Qwen2VLImageProcessor
{
    /// <summary>Python raises above this aspect ratio.</summary>
    private const double MaxAspectRatio = 200;

    // Each output value is a function of one uint8 sample and its channel (rescale in float64 → float32, normalize in
    // float32, as numpy does): a 3 x 256 table holds them exactly.
    private readonly float[][] _lookup;

    /// <exception cref="ArgumentException">The config is invalid.</exception>
    public Qwen2VLImageProcessor(Qwen2VLImageProcessorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _lookup = [.. Enumerable.Range(0, 3).Select(BuildLookup)];
    }

    public Qwen2VLImageProcessorConfig Config { get; }

    /// <summary>
    /// transformers' <c>smart_resize(height, width, factor, min_pixels, max_pixels)</c>: each side rounded (half to
    /// even, Python's round) to a multiple of the factor, then scaled down or up so the area fits the bounds.
    /// Without do_resize the size is unchanged (and must then already be a multiple of the factor).
    /// </summary>
    /// <exception cref="ArgumentException">An aspect ratio above 200, or (without resize) sides that are not multiples of the factor.</exception>
    public (int Height, int Width) ResizedSize(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if ((double)Math.Max(width, height) / Math.Min(width, height) > MaxAspectRatio)
        {
            throw new ArgumentException($"A {width}x{height} image has an aspect ratio above {MaxAspectRatio}.");
        }

        int factor = Config.Factor;
        if (!Config.DoResize)
        {
            if (width % factor != 0 || height % factor != 0)
            {
                throw new ArgumentException($"Without do_resize a {width}x{height} image must have sides that are multiples of {factor}.");
            }

            return (height, width);
        }

        double hBar = Math.Round((double)height / factor, MidpointRounding.ToEven) * factor;
        double wBar = Math.Round((double)width / factor, MidpointRounding.ToEven) * factor;
        if (hBar * wBar > Config.MaxPixels)
        {
            double beta = Math.Sqrt((double)height * width / Config.MaxPixels);
            hBar = Math.Max(factor, Math.Floor(height / beta / factor) * factor);
            wBar = Math.Max(factor, Math.Floor(width / beta / factor) * factor);
        }
        else if (hBar * wBar < Config.MinPixels)
        {
            double beta = Math.Sqrt(Config.MinPixels / ((double)height * width));
            hBar = Math.Ceiling(height * beta / factor) * factor;
            wBar = Math.Ceiling(width * beta / factor) * factor;
        }

        return (checked((int)hBar), checked((int)wBar));
    }

    /// <summary>The grid (t, h, w) in patches of an item of <paramref name="frames"/> frames (1 for an image).</summary>
    public (int T, int H, int W) GridFor(int width, int height, int frames = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frames);
        var (resizedHeight, resizedWidth) = ResizedSize(width, height);
        int t = (frames + Config.TemporalPatchSize - 1) / Config.TemporalPatchSize;
        return (t, resizedHeight / Config.PatchSize, resizedWidth / Config.PatchSize);
    }

    /// <summary>LLM tokens of an item of this size, before decoding it (for prompt length checks).</summary>
    public int TokenCountFor(int width, int height, int frames = 1)
    {
        var (t, h, w) = GridFor(width, height, frames);
        return t * h * w / (Config.MergeSize * Config.MergeSize);
    }

    /// <summary>One image: tiled to temporal_patch_size identical frames.</summary>
    public Qwen2VLPixelValues ProcessImage(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return ProcessFrames([image]);
    }

    /// <summary>
    /// A video's frames (all of one size), in order; an odd count (for temporal_patch_size 2) is padded by repeating
    /// the last frame, as the Python processor does.
    /// </summary>
    /// <exception cref="ArgumentException">No frames, or frames of different sizes.</exception>
    public Qwen2VLPixelValues ProcessVideo(IReadOnlyList<RgbImage> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        return ProcessFrames(frames);
    }

    private Qwen2VLPixelValues ProcessFrames(IReadOnlyList<RgbImage> frames)
    {
        if (frames.Count == 0)
        {
            throw new ArgumentException("A video needs at least one frame.", nameof(frames));
        }

        int width = frames[0].Width;
        int height = frames[0].Height;
        foreach (var frame in frames)
        {
            if (frame.Width != width || frame.Height != height)
            {
                throw new ArgumentException($"Video frames differ in size ({width}x{height} and {frame.Width}x{frame.Height}).", nameof(frames));
            }
        }

        var (resizedHeight, resizedWidth) = ResizedSize(width, height);
        var resized = new RgbImage[frames.Count];
        for (int i = 0; i < frames.Count; i++)
        {
            // PIL returns a copy for an unchanged size, so skipping the resize changes nothing.
            resized[i] = (resizedWidth, resizedHeight) == (width, height)
                ? frames[i]
                : PilResize.Resize(frames[i], resizedWidth, resizedHeight, Config.Resample);
        }

        int tps = Config.TemporalPatchSize;
        int patch = Config.PatchSize;
        int merge = Config.MergeSize;
        int gridT = (frames.Count + tps - 1) / tps;
        int gridH = resizedHeight / patch;
        int gridW = resizedWidth / patch;
        int dimension = Config.PatchDimension;
        var data = new float[checked(gridT * gridH * gridW * dimension)];
        var span = data.AsSpan();
        int row = 0;
        for (int t = 0; t < gridT; t++)
        {
            for (int bh = 0; bh < gridH / merge; bh++)
            {
                for (int bw = 0; bw < gridW / merge; bw++)
                {
                    for (int mh = 0; mh < merge; mh++)
                    {
                        for (int mw = 0; mw < merge; mw++)
                        {
                            int top = ((bh * merge) + mh) * patch;
                            int left = ((bw * merge) + mw) * patch;
                            WritePatch(resized, t * tps, top, left, resizedWidth, span.Slice(row * dimension, dimension));
                            row++;
                        }
                    }
                }
            }
        }

        return new Qwen2VLPixelValues(data, gridT, gridH, gridW, dimension, merge);
    }

    /// <summary>One flattened patch, laid out (channel, temporal, y, x); frames past the end repeat the last one.</summary>
    private void WritePatch(RgbImage[] frames, int firstFrame, int top, int left, int width, Span<float> destination)
    {
        int tps = Config.TemporalPatchSize;
        int patch = Config.PatchSize;
        int i = 0;
        for (int channel = 0; channel < 3; channel++)
        {
            var lookup = _lookup[channel];
            for (int tp = 0; tp < tps; tp++)
            {
                var pixels = frames[Math.Min(firstFrame + tp, frames.Length - 1)].Pixels.Span;
                for (int y = 0; y < patch; y++)
                {
                    int rowStart = (((top + y) * width) + left) * 3;
                    for (int x = 0; x < patch; x++)
                    {
                        destination[i++] = lookup[pixels[rowStart + (x * 3) + channel]];
                    }
                }
            }
        }
    }

    private float[] BuildLookup(int channel)
    {
        var table = new float[256];
        float mean = (float)Config.ImageMean[channel];
        float std = (float)Config.ImageStd[channel];
        for (int value = 0; value < 256; value++)
        {
            float x = Config.DoRescale ? (float)(value * Config.RescaleFactor) : value;
            table[value] = Config.DoNormalize ? (x - mean) / std : x;
        }

        return table;
    }
}
