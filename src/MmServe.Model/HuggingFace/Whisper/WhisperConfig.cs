using System.Text.Json;
using MmServe.Model.Bundle;

namespace MmServe.Model.HuggingFace.Whisper;

/// <summary>
/// What serving a <c>model_type</c> "whisper" ONNX export needs from its config.json, generation_config.json and
/// preprocessor_config.json (the onnx-community layout: onnx/encoder_model.onnx + onnx/decoder_model_merged.onnx).
/// Every problem is a <see cref="BundleValidationException"/> naming the file and the field.
/// </summary>
/// <param name="DModel">Encoder output width (config d_model).</param>
/// <param name="DecoderLayers">config decoder_layers.</param>
/// <param name="DecoderHeads">config decoder_attention_heads (head_dim = d_model / heads).</param>
/// <param name="VocabSize">config vocab_size (logits columns).</param>
/// <param name="MaxTargetPositions">Decoder positions (prompt + generated), config max_target_positions.</param>
/// <param name="MaxSourcePositions">Encoder positions, config max_source_positions (1500 for 30 s).</param>
/// <param name="Generation">The decoding rules of generation_config.json.</param>
/// <param name="Features">The WhisperFeatureExtractor fields of preprocessor_config.json.</param>
public sealed record WhisperConfig(
    int DModel,
    int DecoderLayers,
    int DecoderHeads,
    int VocabSize,
    int MaxTargetPositions,
    int MaxSourcePositions,
    WhisperGenerationConfig Generation,
    WhisperFeatureConfig Features)
{
    public const string ModelType = "whisper";
    public const string EncoderFile = "encoder_model";
    public const string DecoderFile = "decoder_model_merged";

    public int HeadDim => DModel / DecoderHeads;

    public static WhisperConfig Load(string folder)
    {
        var config = HfJson.Read(folder, HfModelConfig.FileName, required: true)!;
        var root = config.Root;
        if (config.String(root, "model_type", "model_type") != ModelType)
        {
            throw config.Error("model_type", $"must be '{ModelType}'");
        }

        int dModel = config.RequiredPositive(root, "d_model", "d_model");
        int heads = config.RequiredPositive(root, "decoder_attention_heads", "decoder_attention_heads");
        if (dModel % heads != 0)
        {
            throw config.Error("d_model", $"({dModel}) is not a multiple of decoder_attention_heads ({heads})");
        }

        int mels = config.RequiredPositive(root, "num_mel_bins", "num_mel_bins");
        var features = WhisperFeatureConfig.Read(folder);
        if (features.FeatureSize != mels)
        {
            throw new BundleValidationException($"{Path.Combine(folder, "preprocessor_config.json")}: feature_size {features.FeatureSize} differs from config.json num_mel_bins {mels}");
        }

        int vocab = config.RequiredPositive(root, "vocab_size", "vocab_size");
        return new WhisperConfig(
            dModel,
            config.RequiredPositive(root, "decoder_layers", "decoder_layers"),
            heads,
            vocab,
            config.RequiredPositive(root, "max_target_positions", "max_target_positions"),
            config.RequiredPositive(root, "max_source_positions", "max_source_positions"),
            WhisperGenerationConfig.Read(folder, config, vocab),
            features);
    }
}

/// <summary>
/// generation_config.json of a Whisper export, as transformers.js 4.3.1's <c>WhisperForConditionalGeneration</c> uses
/// it with timestamps off: the init tokens, the suppressed tokens and the end token. (<c>forced_decoder_ids</c> is
/// deprecated and ignored there, and so here.)
/// </summary>
public sealed record WhisperGenerationConfig(
    int DecoderStartTokenId,
    int EosTokenId,
    int NoTimestampsTokenId,
    IReadOnlyDictionary<string, int> LanguageToId,
    IReadOnlyDictionary<string, int> TaskToId,
    IReadOnlyList<int> SuppressTokens,
    IReadOnlyList<int> BeginSuppressTokens)
{
    public const string FileName = "generation_config.json";
    public const string Transcribe = "transcribe";
    public const string Translate = "translate";

    /// <summary>A multilingual model takes language and task tokens; an English-only one takes neither.</summary>
    public bool IsMultilingual => LanguageToId.Count > 0;

    /// <summary>
    /// <c>[&lt;|startoftranscript|&gt;, &lt;|lang|&gt;, &lt;|task|&gt;, &lt;|notimestamps|&gt;]</c> (multilingual) or
    /// <c>[&lt;|startoftranscript|&gt;, &lt;|notimestamps|&gt;]</c>. No language → "en", as transformers.js does.
    /// </summary>
    /// <param name="language">An ISO code such as "de" (the key <c>&lt;|de|&gt;</c> of lang_to_id), or null.</param>
    /// <param name="task">"transcribe" or "translate".</param>
    /// <returns>The ids, or null with the reason when the language or task is not the model's.</returns>
    public (int[]? Ids, string? Error) DecoderPromptIds(string? language, string task)
    {
        if (!IsMultilingual)
        {
            return task == Transcribe && language is null or "en"
                ? ([DecoderStartTokenId, NoTimestampsTokenId], null)
                : (null, "This model is English-only: it transcribes English and does not translate.");
        }

        if (!TaskToId.TryGetValue(task, out int taskId))
        {
            return (null, $"Unknown task '{task}' (expected {string.Join(" or ", TaskToId.Keys)}).");
        }

        string code = (language ?? "en").Trim().ToLowerInvariant();
        return LanguageToId.TryGetValue($"<|{code}|>", out int languageId)
            ? ([DecoderStartTokenId, languageId, taskId, NoTimestampsTokenId], null)
            : (null, $"Unsupported language '{language}': use an ISO-639-1 code this model knows, such as 'en', 'de' or 'fr'.");
    }

    internal static WhisperGenerationConfig Read(string folder, HfJson config, int vocab)
    {
        var json = HfJson.Read(folder, FileName, required: true)!;
        var root = json.Root;
        int Token(string field, HfJson source)
        {
            int id = source.Int(source.Root, field, field) ?? throw source.Error(field, "is required");
            return (uint)id < (uint)vocab ? id : throw source.Error(field, $"({id}) is outside the vocabulary of {vocab}");
        }

        var eos = json.IntOrList(root, "eos_token_id", "eos_token_id") is { Count: > 0 } list ? list[0] : Token("eos_token_id", config);
        return new WhisperGenerationConfig(
            json.Int(root, "decoder_start_token_id", "decoder_start_token_id") is not null ? Token("decoder_start_token_id", json) : Token("decoder_start_token_id", config),
            eos,
            Token("no_timestamps_token_id", json),
            IdMap(json, "lang_to_id", vocab),
            IdMap(json, "task_to_id", vocab),
            json.IntOrList(root, "suppress_tokens", "suppress_tokens"),
            json.IntOrList(root, "begin_suppress_tokens", "begin_suppress_tokens"));
    }

    private static Dictionary<string, int> IdMap(HfJson json, string name, int vocab)
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        if (HfJson.Property(json.Root, name) is not { } value)
        {
            return map;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw json.Error(name, "must be an object of token → id");
        }

        foreach (var entry in value.EnumerateObject())
        {
            map[entry.Name] = entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetInt32(out int id) && (uint)id < (uint)vocab
                ? id
                : throw json.Error($"{name}.{entry.Name}", $"must be a token id below {vocab}");
        }

        return map;
    }
}

/// <summary>
/// preprocessor_config.json of a <c>WhisperFeatureExtractor</c> (MmServe.Media's WhisperFeatureSpec takes these values).
/// A <c>mel_filters</c> array is refused: the filters are computed (slaney, 0–8000 Hz) as when it is absent.
/// </summary>
public sealed record WhisperFeatureConfig(int FeatureSize, int SamplingRate, int HopLength, int NFft, int NSamples, int NbMaxFrames)
{
    public const string FileName = "preprocessor_config.json";

    internal static WhisperFeatureConfig Read(string folder)
    {
        var json = HfJson.Read(folder, FileName, required: true)!;
        var root = json.Root;
        if (json.String(root, "feature_extractor_type", "feature_extractor_type") is { } type && type != "WhisperFeatureExtractor")
        {
            throw json.Error("feature_extractor_type", $"'{type}' is not supported (expected WhisperFeatureExtractor)");
        }

        if (HfJson.Property(root, "mel_filters") is not null)
        {
            throw json.Error("mel_filters", "is not supported: remove it to use the computed slaney filters");
        }

        return new WhisperFeatureConfig(
            json.Int(root, "feature_size", "feature_size") ?? 80,
            json.Int(root, "sampling_rate", "sampling_rate") ?? 16000,
            json.Int(root, "hop_length", "hop_length") ?? 160,
            json.Int(root, "n_fft", "n_fft") ?? 400,
            json.Int(root, "n_samples", "n_samples") ?? 480000,
            json.Int(root, "nb_max_frames", "nb_max_frames") ?? 3000);
    }
}
