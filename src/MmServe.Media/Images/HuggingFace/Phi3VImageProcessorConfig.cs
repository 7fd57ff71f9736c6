namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// The <c>preprocessor_config.json</c> of Phi-3-vision / Phi-3.5-vision (<c>Phi3VImageProcessor</c>, remote code
/// image_processing_phi3_v.py). Phi-3.5-vision-instruct ships num_crops 4 and num_img_tokens 144; the class defaults
/// (num_crops 1) apply to missing fields.
/// </summary>
public sealed record Phi3VImageProcessorConfig
{
    /// <summary>The model's crop size; 336 is hard-coded throughout the Python code.</summary>
    public const int DefaultTileSize = 336;

    /// <summary>Upper bound on num_crops: the HD image holds at most this many tiles.</summary>
    public const int MaxNumCrops = 64;

    /// <summary><c>hd_num</c> of HD_transform: the most crops an image is cut into.</summary>
    public int NumCrops { get; init; } = 1;

    public IReadOnlyList<double> ImageMean { get; init; } = ClipImageProcessorConfig.OpenAiClipMean;

    public IReadOnlyList<double> ImageStd { get; init; } = ClipImageProcessorConfig.OpenAiClipStd;

    /// <summary>Tokens per crop; a square (144 = 12 x 12). The Python formula hard-codes 144 and 12.</summary>
    public int NumImageTokens { get; init; } = 144;

    /// <summary>convert_to_rgb is PIL's convert("RGB") (alpha dropped), which the decoder always does.</summary>
    public bool DoConvertRgb { get; init; } = true;

    /// <summary>
    /// The tile side (336 in the model). Only tests change it, to exercise the same code on small tensors; the
    /// Python reference in tools/pil-oracle replaces 336 the same way.
    /// </summary>
    internal int TileSize { get; init; } = DefaultTileSize;

    /// <exception cref="InvalidDataException">Invalid JSON or a field of the wrong type or range.</exception>
    public static Phi3VImageProcessorConfig Parse(ReadOnlySpan<byte> json, string source = "preprocessor_config.json")
    {
        using var document = HfConfigJson.Parse(json, source);
        var root = document.RootElement;
        var defaults = new Phi3VImageProcessorConfig();
        var config = new Phi3VImageProcessorConfig
        {
            NumCrops = HfConfigJson.Optional(root, "num_crops") is { } crops ? HfConfigJson.Int(crops, "num_crops", source) : defaults.NumCrops,
            ImageMean = HfConfigJson.ChannelValues(root, "image_mean", defaults.ImageMean, source),
            ImageStd = HfConfigJson.ChannelValues(root, "image_std", defaults.ImageStd, source),
            NumImageTokens = HfConfigJson.Optional(root, "num_img_tokens") is { } tokens
                ? HfConfigJson.Int(tokens, "num_img_tokens", source)
                : defaults.NumImageTokens,
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

    /// <summary>The integer square root of <see cref="NumImageTokens"/> (12 for 144): tokens of one row separator.</summary>
    public int TokensPerRow => (int)Math.Round(Math.Sqrt(NumImageTokens));

    /// <exception cref="ArgumentException">num_crops or num_img_tokens out of range, or bad mean/std.</exception>
    public void Validate()
    {
        if (NumCrops is < 1 or > MaxNumCrops)
        {
            throw new ArgumentException($"num_crops {NumCrops} must be in 1..{MaxNumCrops}.");
        }

        if (NumImageTokens < 1 || TokensPerRow * TokensPerRow != NumImageTokens)
        {
            throw new ArgumentException($"num_img_tokens {NumImageTokens} must be a positive square (144 = 12 x 12).");
        }

        if (ImageMean is not { Count: 3 } || ImageStd is not { Count: 3 } || ImageMean.Concat(ImageStd).Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("image_mean and image_std must be 3 finite numbers each.");
        }

        if (ImageStd.Any(v => (float)v == 0))
        {
            throw new ArgumentException("image_std must not be zero.");
        }

        if (TileSize is < 1 or > 4096)
        {
            throw new ArgumentException($"tile size {TileSize} is out of range.");
        }
    }
}
