using System.Text.Json;

namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// The <c>size</c> of a CLIP-style processor: <c>{"shortest_edge": S}</c> (scale so the shorter side is S, keeping the
/// aspect ratio) or <c>{"height": H, "width": W}</c> (exactly H x W).
/// </summary>
public readonly record struct ClipResizeSize(int ShortestEdge, int Height, int Width)
{
    public static ClipResizeSize WithShortestEdge(int shortestEdge) => new(shortestEdge, 0, 0);

    public static ClipResizeSize Exactly(int height, int width) => new(0, height, width);

    public bool KeepsAspectRatio => ShortestEdge > 0;
}

/// <summary>
/// The fields of a <c>preprocessor_config.json</c> that transformers' (PIL-based) <c>CLIPImageProcessor</c> reads,
/// with its defaults. LLaVA-1.5 (llava-hf) ships: shortest_edge 336, bicubic, center crop 336, 1/255, OpenAI CLIP
/// mean/std.
/// </summary>
public sealed record ClipImageProcessorConfig
{
    public static readonly IReadOnlyList<double> OpenAiClipMean = [0.48145466, 0.4578275, 0.40821073];
    public static readonly IReadOnlyList<double> OpenAiClipStd = [0.26862954, 0.26130258, 0.27577711];

    /// <summary>Largest accepted resize/crop side; real encoders use a few hundred pixels.</summary>
    public const int MaxSide = 8192;

    public bool DoResize { get; init; } = true;

    public ClipResizeSize Size { get; init; } = ClipResizeSize.WithShortestEdge(224);

    public PilResampling Resample { get; init; } = PilResampling.Bicubic;

    public bool DoCenterCrop { get; init; } = true;

    public int CropHeight { get; init; } = 224;

    public int CropWidth { get; init; } = 224;

    public bool DoRescale { get; init; } = true;

    /// <summary>Python's <c>1 / 255</c> unless the config says otherwise.</summary>
    public double RescaleFactor { get; init; } = 1 / 255.0;

    public bool DoNormalize { get; init; } = true;

    public IReadOnlyList<double> ImageMean { get; init; } = OpenAiClipMean;

    public IReadOnlyList<double> ImageStd { get; init; } = OpenAiClipStd;

    /// <summary>
    /// transformers' <c>convert_to_rgb</c> is PIL's <c>convert("RGB")</c>: alpha is dropped, not composited. The
    /// decoder always yields RGB that way, so this only records the config.
    /// </summary>
    public bool DoConvertRgb { get; init; } = true;

    /// <summary>Reads a <c>preprocessor_config.json</c>; unknown fields (processor_class, ...) are ignored.</summary>
    /// <exception cref="InvalidDataException">Invalid JSON, a field of the wrong type, or an unsupported size form.</exception>
    public static ClipImageProcessorConfig Parse(ReadOnlySpan<byte> json, string source = "preprocessor_config.json")
    {
        using var document = HfConfigJson.Parse(json, source);
        var root = document.RootElement;
        var defaults = new ClipImageProcessorConfig();
        var (cropHeight, cropWidth) = ReadCropSize(root, source);
        var config = new ClipImageProcessorConfig
        {
            DoResize = HfConfigJson.Bool(root, "do_resize", defaults.DoResize, source),
            Size = ReadSize(root, source),
            Resample = HfConfigJson.Optional(root, "resample") is { } resample
                ? ReadResample(resample, source)
                : defaults.Resample,
            DoCenterCrop = HfConfigJson.Bool(root, "do_center_crop", defaults.DoCenterCrop, source),
            CropHeight = cropHeight,
            CropWidth = cropWidth,
            DoRescale = HfConfigJson.Bool(root, "do_rescale", defaults.DoRescale, source),
            RescaleFactor = HfConfigJson.Optional(root, "rescale_factor") is { } factor
                ? HfConfigJson.Number(factor, "rescale_factor", source)
                : defaults.RescaleFactor,
            DoNormalize = HfConfigJson.Bool(root, "do_normalize", defaults.DoNormalize, source),
            ImageMean = HfConfigJson.ChannelValues(root, "image_mean", OpenAiClipMean, source),
            ImageStd = HfConfigJson.ChannelValues(root, "image_std", OpenAiClipStd, source),
            DoConvertRgb = HfConfigJson.Bool(root, "do_convert_rgb", defaults.DoConvertRgb, source),
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

    /// <exception cref="ArgumentException">A size outside 1..<see cref="MaxSide"/>, an unknown filter, or bad mean/std.</exception>
    public void Validate()
    {
        if (DoResize)
        {
            if (Size.KeepsAspectRatio ? Size.ShortestEdge > MaxSide : !(Size.Height is > 0 and <= MaxSide && Size.Width is > 0 and <= MaxSide))
            {
                throw new ArgumentException($"size {Size} is invalid; sides must be in 1..{MaxSide}.");
            }

            if (!Enum.IsDefined(Resample))
            {
                throw new ArgumentException($"resample {(int)Resample} is not a PIL filter (0..5).");
            }
        }

        if (DoCenterCrop && !(CropHeight is > 0 and <= MaxSide && CropWidth is > 0 and <= MaxSide))
        {
            throw new ArgumentException($"crop_size {CropHeight}x{CropWidth} is invalid; sides must be in 1..{MaxSide}.");
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

    /// <summary>get_size_dict(size, default_to_square=False): an int is a shortest edge, a pair is (height, width).</summary>
    private static ClipResizeSize ReadSize(JsonElement root, string source)
    {
        switch (HfConfigJson.Optional(root, "size"))
        {
            case null:
                return new ClipImageProcessorConfig().Size;
            case { ValueKind: JsonValueKind.Number } single:
                return ClipResizeSize.WithShortestEdge(Positive(single, "size", source));
            case { ValueKind: JsonValueKind.Array } pair when pair.GetArrayLength() == 2:
                return ClipResizeSize.Exactly(Positive(pair[0], "size", source), Positive(pair[1], "size", source));
            case { ValueKind: JsonValueKind.Object } size:
                var keys = size.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
                if (keys.SequenceEqual(["shortest_edge"]))
                {
                    return ClipResizeSize.WithShortestEdge(Positive(size.GetProperty("shortest_edge"), "size.shortest_edge", source));
                }

                if (keys.SequenceEqual(["height", "width"]))
                {
                    return ClipResizeSize.Exactly(
                        Positive(size.GetProperty("height"), "size.height", source),
                        Positive(size.GetProperty("width"), "size.width", source));
                }

                throw HfConfigJson.Invalid(source, "size", $"has keys {{{string.Join(", ", keys)}}}; CLIPImageProcessor supports {{shortest_edge}} or {{height, width}}");
            default:
                throw HfConfigJson.Invalid(source, "size", "must be an integer, [height, width] or an object");
        }
    }

    /// <summary>get_size_dict(crop_size, default_to_square=True): an int is a square.</summary>
    private static (int Height, int Width) ReadCropSize(JsonElement root, string source)
    {
        switch (HfConfigJson.Optional(root, "crop_size"))
        {
            case null:
                return (224, 224);
            case { ValueKind: JsonValueKind.Number } single:
                int side = Positive(single, "crop_size", source);
                return (side, side);
            case { ValueKind: JsonValueKind.Array } pair when pair.GetArrayLength() == 2:
                return (Positive(pair[0], "crop_size", source), Positive(pair[1], "crop_size", source));
            case { ValueKind: JsonValueKind.Object } crop when crop.TryGetProperty("height", out var h) && crop.TryGetProperty("width", out var w):
                return (Positive(h, "crop_size.height", source), Positive(w, "crop_size.width", source));
            default:
                throw HfConfigJson.Invalid(source, "crop_size", "must be an integer, [height, width] or {height, width}");
        }
    }

    private static PilResampling ReadResample(JsonElement value, string source)
    {
        int filter = HfConfigJson.Int(value, "resample", source);
        return Enum.IsDefined((PilResampling)filter)
            ? (PilResampling)filter
            : throw HfConfigJson.Invalid(source, "resample", $"is {filter}; PIL filters are 0 (nearest) to 5 (hamming)");
    }

    private static int Positive(JsonElement value, string name, string source)
    {
        int result = HfConfigJson.Int(value, name, source);
        return result > 0 ? result : throw HfConfigJson.Invalid(source, name, "must be positive");
    }
}
