using System.Text.Json;
using MmServe.Model.Bundle;
using MmServe.Model.Tokenization;

namespace MmServe.Model.HuggingFace;

/// <summary>
/// Loads a Hugging Face ONNX export folder (config.json, generation_config.json, tokenizer.json,
/// tokenizer_config.json, preprocessor/processor_config.json, onnx/*.onnx — the transformers.js / onnx-community
/// layout) as a <see cref="ModelBundle"/> whose manifest is synthesized from those files, so the rest of the server
/// serves it like any bundle. Every problem is a <see cref="BundleValidationException"/> naming the file and field.
/// </summary>
public static class HfFolderLoader
{
    public const string FormatHfOnnx = "hf-onnx";

    /// <summary>A folder is an HF export when it has config.json and no manifest.json.</summary>
    public static bool IsHfFolder(string folder) =>
        File.Exists(Path.Combine(folder, HfModelConfig.FileName)) && !File.Exists(Path.Combine(folder, BundleLoader.ManifestFileName));

    /// <param name="folder">The folder as configured (messages name files under it as given).</param>
    /// <param name="dtype">Which ONNX variant to load (see <see cref="HfDtype"/>); null for fp32.</param>
    public static (ModelBundle Bundle, ByteLevelBpeTokenizer Tokenizer) Load(string folder, string? dtype = null)
    {
        dtype ??= HfDtype.Default;
        if (!HfDtype.Suffixes.ContainsKey(dtype))
        {
            throw new BundleValidationException($"{folder}: dtype '{dtype}' is not one of {string.Join(", ", HfDtype.Suffixes.Keys)}");
        }

        var configJson = HfJson.Read(folder, HfModelConfig.FileName, required: true)!;
        var config = HfModelConfig.Read(configJson);
        if (!HfArchitecture.Supported.TryGetValue(config.ModelType, out var architecture))
        {
            throw configJson.Error("model_type", $"'{config.ModelType}' is not supported (supported: {HfArchitecture.SupportedList})");
        }

        var (tokenizer, tokenizerPath) = HfTokenizerFiles.LoadTokenizer(folder);
        var (tokenizerConfig, template) = HfTokenizerFiles.LoadChatTemplate(folder);

        var generation = HfJson.Read(folder, "generation_config.json", required: false);
        var eosIds = generation?.IntOrList(generation.Root, "eos_token_id", "eos_token_id") is { Count: > 0 } fromGeneration
            ? fromGeneration
            : config.EosTokenIds;
        if (eosIds.Count == 0)
        {
            throw configJson.Error("eos_token_id", "is required (in generation_config.json or config.json): generation could never stop");
        }

        var eosTokens = eosIds.Select(id => TokenOf(tokenizer, id, generation ?? configJson, "eos_token_id")).ToList();
        var samplingDefaults = HfGenerationDefaults.Read(generation);
        var components = new Dictionary<string, ComponentSpec>(StringComparer.Ordinal)
        {
            ["decoder"] = OnnxComponent(folder, architecture.DecoderSession, dtype),
        };
        if (architecture.EmbedSession is { } embed)
        {
            components["embed"] = OnnxComponent(folder, embed, dtype);
        }

        var inputModalities = new Dictionary<string, InputModalitySpec>(StringComparer.Ordinal);
        var qwen2VL = architecture.ContentStyle == HfContentStyle.OrderedParts ? Qwen2VLConfig.Read(configJson, tokenizer) : null;
        if (architecture.VisionSession is { } vision)
        {
            components["vision"] = OnnxComponent(folder, vision, dtype);
            if (qwen2VL is not null)
            {
                // Images and videos share the vision encoder; each item's token count follows from its grid.
                var preprocessing = new PreprocessingSpec { Kind = architecture.ImagePreprocessing!, ConfigFile = Path.GetFullPath(RequireFile(folder, "preprocessor_config.json")) };
                inputModalities["image"] = new InputModalitySpec { PlaceholderToken = qwen2VL.ImageToken, TokensPerItem = 0, Encoder = "vision", Preprocessing = preprocessing };
                inputModalities["video"] = new InputModalitySpec { PlaceholderToken = qwen2VL.VideoToken, TokensPerItem = 0, Encoder = "vision", Preprocessing = preprocessing };
            }
            else
            {
                inputModalities["image"] = ImageModality(folder, architecture, config, tokenizer, configJson);
            }
        }

        UltravoxConfig? ultravox = null;
        if (architecture.AudioSession is { } audio)
        {
            // Ultravox: one audio encoder (Whisper encoder + projector) run per clip; its row count varies with the clip.
            ultravox = UltravoxConfig.Read(folder, configJson, tokenizer);
            components["audio"] = OnnxComponent(folder, audio, dtype);
            var preprocessing = new PreprocessingSpec { Kind = PreprocessingSpec.KindHfUltravoxAudio, ConfigFile = Path.GetFullPath(RequireFile(folder, "preprocessor_config.json")) };
            inputModalities["audio"] = new InputModalitySpec { PlaceholderToken = ultravox.Placeholder, TokensPerItem = 0, Encoder = "audio", Preprocessing = preprocessing };
        }

        var manifest = new BundleManifest
        {
            Format = FormatHfOnnx,
            Id = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))),
            Description = $"Hugging Face ONNX export ({config.ModelType}, {dtype})",
            MaxContext = config.MaxPositionEmbeddings,
            Tokenizer = new TokenizerSpec { File = "tokenizer.json", EosTokens = eosTokens },
            // Unused for HF exports: prompts come from the Jinja template (HfModelInfo.ChatTemplate).
            ChatTemplate = new ChatTemplateSpec { File = tokenizerConfig.ChatTemplateSource, MessageFormat = "", GenerationPrompt = "", PartSeparator = "" },
            Components = components,
            Embedding = architecture.EmbedSession is null ? null : new EmbeddingSpec
            {
                Component = "embed",
                InputIds = "input_ids",
                InputsEmbeds = "inputs_embeds",
                EmptyFeatureInputs = architecture.ContentStyle == HfContentStyle.NumberedImageTags ? ["image_features"] : [],
            },
            Decoder = new DecoderSpec
            {
                Component = "decoder",
                HiddenSize = config.HiddenSize,
                NumLayers = config.NumLayers,
                NumAttentionHeads = config.NumAttentionHeads,
                NumKvHeads = config.NumKvHeads,
                HeadDim = config.HeadDim,
                VocabSize = Math.Max(config.VocabSize, tokenizer.VocabSize),
                InputIds = architecture.EmbedSession is null ? "input_ids" : null,
                InputsEmbeds = "inputs_embeds",
                AttentionMask = "attention_mask",
                PositionIds = "position_ids",
                PastKey = $"past_key_values.{DecoderSpec.LayerPlaceholder}.key",
                PastValue = $"past_key_values.{DecoderSpec.LayerPlaceholder}.value",
                PresentKey = $"present.{DecoderSpec.LayerPlaceholder}.key",
                PresentValue = $"present.{DecoderSpec.LayerPlaceholder}.value",
                Logits = "logits",
                PositionAxes = qwen2VL is null ? 1 : Qwen2VLRopeIndex.Axes,
                KvLayout = DecoderSpec.KvLayoutBatchHeadsSeqDim,
            },
            InputModalities = inputModalities,
        };

        var directory = Path.GetFullPath(folder);
        var bundle = new ModelBundle(
            directory,
            Path.Combine(directory, HfModelConfig.FileName),
            manifest,
            Path.GetFullPath(tokenizerPath),
            Path.GetFullPath(tokenizerConfig.ChatTemplateSource),
            components.ToDictionary(c => c.Key, c => Path.Combine(directory, c.Value.File), StringComparer.Ordinal))
        {
            HuggingFace = new HfModelInfo(architecture, config, template, tokenizerConfig.SpecialTokens, dtype) { Qwen2VL = qwen2VL, Ultravox = ultravox },
            SamplingDefaults = samplingDefaults,
        };
        return (bundle, tokenizer);
    }

    private static InputModalitySpec ImageModality(
        string folder, HfArchitecture architecture, HfModelConfig config, ByteLevelBpeTokenizer tokenizer, HfJson configJson)
    {
        var preprocessorPath = RequireFile(folder, "preprocessor_config.json");
        var preprocessing = new PreprocessingSpec { Kind = architecture.ImagePreprocessing!, ConfigFile = Path.GetFullPath(preprocessorPath) };
        if (architecture.ContentStyle == HfContentStyle.NumberedImageTags)
        {
            // Phi-3-V: "<|image_N|>" tags in the text become runs of <|image|> whose length depends on the image size.
            const string imageToken = "<|image|>";
            if (tokenizer.TokenToId(imageToken) is null)
            {
                throw new BundleValidationException($"{Path.Combine(folder, "tokenizer.json")}: the token '{imageToken}' is missing (phi3_v expands image tags into it)");
            }

            return new InputModalitySpec { PlaceholderToken = imageToken, TokensPerItem = 0, Encoder = "vision", Preprocessing = preprocessing };
        }

        // LLaVA: the processor repeats image_token (H/patch)·(W/patch) + num_additional_image_tokens times
        // (transformers.js' LlavaProcessor), H and W being the processed image's size.
        var processor = HfJson.Read(folder, "processor_config.json", required: true)!;
        var preprocessor = HfJson.Read(folder, "preprocessor_config.json", required: true)!;
        int patch = processor.RequiredPositive(processor.Root, "patch_size", "patch_size");
        int additional = processor.Int(processor.Root, "num_additional_image_tokens", "num_additional_image_tokens") ?? 0;
        var (height, width) = ProcessedImageSize(preprocessor);
        var token = processor.String(processor.Root, "image_token", "image_token")
            ?? (config.ImageTokenIndex is { } id ? TokenOf(tokenizer, id, configJson, "image_token_index") : null)
            ?? throw processor.Error("image_token", "is required (or image_token_index in config.json)");
        if (tokenizer.TokenToId(token) is null)
        {
            throw processor.Error("image_token", $"'{token}' is not a token of tokenizer.json");
        }

        return new InputModalitySpec
        {
            PlaceholderToken = token,
            TokensPerItem = ((height / patch) * (width / patch)) + additional,
            Encoder = "vision",
            Preprocessing = preprocessing,
        };
    }

    /// <summary>The pixel size CLIPImageProcessor outputs: the crop when it crops, else the resize target.</summary>
    private static (int Height, int Width) ProcessedImageSize(HfJson preprocessor)
    {
        var root = preprocessor.Root;
        bool crop = HfJson.Property(root, "do_center_crop") is { ValueKind: JsonValueKind.True };
        var field = crop ? "crop_size" : "size";
        if (HfJson.Property(root, field) is not { } size)
        {
            throw preprocessor.Error(field, "is required");
        }

        if (size.ValueKind == JsonValueKind.Number && size.TryGetInt32(out var square))
        {
            return (square, square);
        }

        if (preprocessor.Int(size, "height", $"{field}.height") is { } h && preprocessor.Int(size, "width", $"{field}.width") is { } w)
        {
            return (h, w);
        }

        if (preprocessor.Int(size, "shortest_edge", $"{field}.shortest_edge") is { } edge)
        {
            return (edge, edge);
        }

        throw preprocessor.Error(field, "must give height and width (or shortest_edge)");
    }

    private static ComponentSpec OnnxComponent(string folder, string stem, string dtype)
    {
        var relative = Path.Combine("onnx", HfDtype.FileName(stem, dtype));
        var path = Path.Combine(folder, relative);
        if (!File.Exists(path))
        {
            var onnxDir = Path.Combine(folder, "onnx");
            var present = Directory.Exists(onnxDir)
                ? string.Join(", ", Directory.EnumerateFiles(onnxDir, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal))
                : "no onnx/ folder";
            throw new BundleValidationException($"{path}: file does not exist (dtype '{dtype}'; present: {(present.Length == 0 ? "none" : present)})");
        }

        return new ComponentSpec { File = relative };
    }

    private static string RequireFile(string folder, string name) => HfTokenizerFiles.RequireFile(folder, name);

    private static string TokenOf(ByteLevelBpeTokenizer tokenizer, int id, HfJson file, string field) => HfTokenizerFiles.TokenOf(tokenizer, id, file, field);
}
