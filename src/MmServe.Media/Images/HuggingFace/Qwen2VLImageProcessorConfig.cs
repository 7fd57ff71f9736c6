namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// The <c>preprocessor_config.json</c> of Qwen2-VL (<c>Qwen2VLImageProcessor</c>). Defaults are the Python class's;
/// <c>min_pixels</c>/<c>max_pixels</c> fall back to <c>size.shortest_edge</c>/<c>size.longest_edge</c> as in
/// transformers (the real files carry both).
/// </summary>
public sealed record Qwen2VLImageProcessorConfig
{
    /// <summary>Upper bound on max_pixels accepted from a config (Qwen2-VL ships 12845056 = 28·28·16384).</summary>
    public const long MaxMaxPixels = 1L << 26;

    public bool DoResize { get; init; } = true;

    public PilResampling Resample { get; init; } = PilResampling.Bicubic;

    public bool DoRescale { get; init; } = true;

    public double RescaleFactor { get; init; } = 1 / 255.0;

    public bool DoNormalize { get; init; } = true;

    public IReadOnlyList<double> ImageMean { get; init; } = ClipImageProcessorConfig.OpenAiClipMean;

    public IReadOnlyList<double> ImageStd { get; init; } = ClipImageProcessorConfig.OpenAiClipStd;

    /// <summary>alpha dropped (PIL convert("RGB")); the decoder always yields RGB that way.</summary>
    public bool DoConvertRgb { get; init; } = true;

    public long MinPixels { get; init; } = 56 * 56;

    public long MaxPixels { get; init; } = 28 * 28 * 1280;

    /// <summary>Side of a vision patch in pixels (14).</summary>
    public int PatchSize { get; init; } = 14;

    /// <summary>Frames per temporal patch (2): an image is tiled to this many identical frames.</summary>
    public int TemporalPatchSize { get; init; } = 2;

    /// <summary>Side of the spatial merge window (2): merge_size² patches become one LLM token.</summary>
    public int MergeSize { get; init; } = 2;

    /// <summary>smart_resize rounds sides to multiples of this (patch_size · merge_size = 28).</summary>
    public int Factor => PatchSize * MergeSize;

    /// <summary>Floats of one flattened patch: 3 · temporal_patch_size · patch_size² (1176).</summary>
    public int PatchDimension => 3 * TemporalPatchSize * PatchSize * PatchSize;

    /// <exception cref="InvalidDataException">Invalid JSON, a field of the wrong type or out of range.</exception>
    public static Qwen2VLImageProcessorConfig Parse(ReadOnlySpan<byte> json, string source = "preprocessor_config.json")
    {
        using var document = HfConfigJson.Parse(json, source);
        var root = document.RootElement;
        var defaults = new Qwen2VLImageProcessorConfig();
        var size = HfConfigJson.Optional(root, "size");
        long minPixels = HfConfigJson.Optional(root, "min_pixels") is { } min
            ? Long(min, "min_pixels", source)
            : size is { } s1 && HfConfigJson.Optional(s1, "shortest_edge") is { } shortest ? Long(shortest, "size.shortest_edge", source) : defaults.MinPixels;
        long maxPixels = HfConfigJson.Optional(root, "max_pixels") is { } max
            ? Long(max, "max_pixels", source)
            : size is { } s2 && HfConfigJson.Optional(s2, "longest_edge") is { } longest ? Long(longest, "size.longest_edge", source) : defaults.MaxPixels;
        var config = new Qwen2VLImageProcessorConfig
        {
            DoResize = HfConfigJson.Bool(root, "do_resize", defaults.DoResize, source),
            Resample = HfConfigJson.Optional(root, "resample") is { } resample ? ReadResample(resample, source) : defaults.Resample,
            DoRescale = HfConfigJson.Bool(root, "do_rescale", defaults.DoRescale, source),
            RescaleFactor = HfConfigJson.Optional(root, "rescale_factor") is { } factor
                ? HfConfigJson.Number(factor, "rescale_factor", source)
                : defaults.RescaleFactor,
            DoNormalize = HfConfigJson.Bool(root, "do_normalize", defaults.DoNormalize, source),
            ImageMean = HfConfigJson.ChannelValues(root, "image_mean", defaults.ImageMean, source),
            ImageStd = HfConfigJson.ChannelValues(root, "image_std", defaults.ImageStd, source),
            DoConvertRgb = HfConfigJson.Bool(root, "do_convert_rgb", defaults.DoConvertRgb, source),
            MinPixels = minPixels,
            MaxPixels = maxPixels,
            PatchSize = HfConfigJson.Optional(root, "patch_size") is { } patch ? HfConfigJson.Int(patch, "patch_size", source) : defaults.PatchSize,
            TemporalPatchSize = HfConfigJson.Optional(root, "temporal_patch_size") is { } temporal
                ? HfConfigJson.Int(temporal, "temporal_patch_size", source)
                : defaults.TemporalPatchSize,
            MergeSize = HfConfigJson.Optional(root, "merge_size") is { } merge ? HfConfigJson.Int(merge, "merge_size", source) : defaults.MergeSize,
        };

        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }

        return config;
    }

    /// <exception cref="ArgumentException">A field out of range.</exception>
    public void Validate()
    {
        if (PatchSize is < 1 or > 64 || TemporalPatchSize is < 1 or > 8 || MergeSize is < 1 or > 8)
        {
            throw new ArgumentException(
                $"patch_size {PatchSize}, temporal_patch_size {TemporalPatchSize} and merge_size {MergeSize} must be in 1..64, 1..8 and 1..8.");
        }

        if (MinPixels < 1 || MaxPixels < MinPixels || MaxPixels > MaxMaxPixels)
        {
            throw new ArgumentException($"min_pixels {MinPixels} and max_pixels {MaxPixels} must satisfy 1 <= min <= max <= {MaxMaxPixels}.");
        }

        if (!Enum.IsDefined(Resample))
        {
            throw new ArgumentException($"resample {(int)Resample} is not a PIL filter (0..5).");
        }

        if (DoRescale && !double.IsFinite(RescaleFactor))
        {
            throw new ArgumentException($"rescale_factor {RescaleFactor} must be finite.");
        }

        if (DoNormalize)
        {
            if (ImageMean is not { Count: 3 } || ImageStd is not { Count: 3 } || ImageMean.Concat(ImageStd).Any(v => !double.IsFinite(v)))
            {
                throw new ArgumentException("image_mean and image_std must be 3 finite numbers each.");
            }

            if (ImageStd.Any(v => (float)v == 0))
            {
                throw new ArgumentException("image_std must not be zero.");
            }
        }
    }

    private static long Long(System.Text.Json.JsonElement value, string name, string source) =>
        value.ValueKind == System.Text.Json.JsonValueKind.Number && value.TryGetInt64(out long result) && result > 0
            ? result
            : throw HfConfigJson.Invalid(source, name, "must be a positive integer");

    private static PilResampling ReadResample(System.Text.Json.JsonElement value, string source)
    {
        int filter = HfConfigJson.Int(value, "resample", source);
        return Enum.IsDefined((PilResampling)filter)
            ? (PilResampling)filter
            : throw HfConfigJson.Invalid(source, "resample", $"is {filter}; PIL filters are 0 (nearest) to 5 (hamming)");
    }
}
