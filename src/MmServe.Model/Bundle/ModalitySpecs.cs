using System.Text.Json.Serialization;

namespace MmServe.Model.Bundle;

/// <summary>manifest.json "input_modalities.&lt;name&gt;": how media of one kind enters the prompt.</summary>
public sealed record InputModalitySpec
{
    /// <summary>Token standing for one media item in the chat template; expanded to <see cref="TokensPerItem"/> copies.</summary>
    public required string PlaceholderToken { get; init; }

    /// <summary>Embedding rows per item; 0 when they vary per item (Phi-3-V: from the image size).</summary>
    public required int TokensPerItem { get; init; }

    /// <summary>Component encoding one item (image, audio clip); video uses <see cref="FrameEncoder"/> instead.</summary>
    public string? Encoder { get; init; }

    /// <summary>Component encoding one video frame.</summary>
    public string? FrameEncoder { get; init; }

    /// <summary>Required in v1 bundles; null when the encoder already yields LLM-space embeddings (HF exports).</summary>
    public string? Projector { get; init; }

    public required PreprocessingSpec Preprocessing { get; init; }

    /// <summary>
    /// The instruction that asks this model to transcribe one item (audio), e.g. "Transcribe the audio."; used by
    /// /v1/audio/transcriptions. Absent: the model offers no transcription.
    /// </summary>
    public string? TranscriptionPrompt { get; init; }

    /// <summary>
    /// Encoder-free patch input (Fuyu, preprocessing "fuyu_patches"): the token after every row of patch positions.
    /// The item's run is rows x (cols + 1) positions; the row breaks keep this token's own embedding.
    /// </summary>
    public string? RowBreakToken { get; init; }

    /// <summary>Instruction-aware projector (InstructBLIP's Q-Former): how the prompt's text reaches it. Null: none.</summary>
    public ProjectorInstructionSpec? Instruction { get; init; }
}

/// <summary>
/// How raw media becomes the encoder's input tensor. One flat record for all kinds: which fields apply (and are
/// required) depends on <see cref="Kind"/>, as checked by <see cref="BundleValidator"/>.
/// </summary>
public sealed partial record PreprocessingSpec
{
    public const string KindImage = "image";
    public const string KindLogMel = "log_mel";
    public const string KindVideoFrames = "video_frames";

    /// <summary>Hugging Face CLIPImageProcessor semantics from <see cref="ConfigFile"/> (LLaVA exports).</summary>
    public const string KindHfClip = "hf_clip";

    /// <summary>Hugging Face Phi3VImageProcessor (HD transform) from <see cref="ConfigFile"/> (Phi-3-vision exports).</summary>
    public const string KindHfPhi3V = "hf_phi3_v";

    /// <summary>
    /// Hugging Face Qwen2VLImageProcessor (smart resize, temporal × spatial patches) from <see cref="ConfigFile"/>,
    /// for images and videos of Qwen2-VL exports; the token count follows from each item's grid.
    /// </summary>
    public const string KindHfQwen2VL = "hf_qwen2_vl";

    /// <summary>
    /// Hugging Face WhisperFeatureExtractor from <see cref="ConfigFile"/> as UltravoxProcessor calls it: log-mel of the
    /// clip at its own length (no 30 s padding); the token count follows from each clip's length.
    /// </summary>
    public const string KindHfUltravoxAudio = "hf_ultravox_audio";

    /// <summary>
    /// Fuyu's encoder-free input: the image at its own size (within min/max width and height), normalised, padded to
    /// whole patch_size patches and cut into a row-major grid; the token count follows from the grid.
    /// </summary>
    public const string KindFuyuPatches = "fuyu_patches";

    public const string ChannelOrderRgb = "rgb";
    public const string ChannelOrderBgr = "bgr";
    public const string LayoutNchw = "nchw";
    public const string LayoutNhwc = "nhwc";

    /// <summary>Alpha ignored, R, G, B taken as stored (PIL convert("RGB")); the only mode the decoders implement.</summary>
    public const string AlphaDrop = "drop";

    public required string Kind { get; init; }

    /// <summary>kinds "hf_*": absolute path of the folder's preprocessor_config.json.</summary>
    public string? ConfigFile { get; init; }

    // kind "image"
    public int? Width { get; init; }
    public int? Height { get; init; }
    public string? Resize { get; init; }
    public double? RescaleFactor { get; init; }
    public IReadOnlyList<double>? Mean { get; init; }
    public IReadOnlyList<double>? Std { get; init; }

    /// <summary><see cref="ChannelOrderRgb"/> (absent) or <see cref="ChannelOrderBgr"/>; mean/std stay in R, G, B order.</summary>
    public string? ChannelOrder { get; init; }

    /// <summary><see cref="AlphaDrop"/> (absent means the same).</summary>
    public string? Alpha { get; init; }

    // kinds "image" (LayoutNchw when absent, or LayoutNhwc) and "log_mel" (informative)
    public string? Layout { get; init; }

    // kind "log_mel"
    public int? SampleRate { get; init; }
    public double? ClipSeconds { get; init; }
    [JsonPropertyName("n_fft")] public int? NFft { get; init; }
    public int? WinLength { get; init; }
    public int? HopLength { get; init; }
    public string? Window { get; init; }
    public bool? Center { get; init; }
    [JsonPropertyName("n_mels")] public int? NMels { get; init; }
    [JsonPropertyName("f_min")] public double? FMin { get; init; }
    [JsonPropertyName("f_max")] public double? FMax { get; init; }
    public string? MelScale { get; init; }
    public double? Power { get; init; }
    public string? Log { get; init; }
    public double? LogOffset { get; init; }

    // kind "video_frames"
    public int? NumFrames { get; init; }
    public string? Sampling { get; init; }

    /// <summary>Name of the input modality (of kind "image") whose preprocessing applies to each frame.</summary>
    public string? FramePreprocessing { get; init; }

    // kind "fuyu_patches" (with rescale_factor, mean, std, channel_order, alpha as for "image")
    public int? PatchSize { get; init; }
    public int? MinWidth { get; init; }
    public int? MinHeight { get; init; }
    public int? MaxWidth { get; init; }
    public int? MaxHeight { get; init; }

    /// <summary>Value of padded pixels, after normalisation.</summary>
    public double? PaddingValue { get; init; }

    /// <summary>Order of a patch's values: "row,col,channel" (the only one defined).</summary>
    public string? PatchLayout { get; init; }
}

/// <summary>manifest.json "output_modalities.&lt;name&gt;": how the model emits media.</summary>
public sealed record OutputModalitySpec
{
    /// <summary>Tokens whose hidden states feed the output projector.</summary>
    public required IReadOnlyList<string> SignalTokens { get; init; }

    public required string OutputProjector { get; init; }
    public required string Generator { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public string? Layout { get; init; }
    public int? SampleRate { get; init; }

    /// <summary>[min, max] of the generator's output samples.</summary>
    public IReadOnlyList<double>? ValueRange { get; init; }

    /// <summary>
    /// The user message that asks this model for one item from a bare description, with <c>{text}</c> standing for
    /// the client's text (e.g. "Generate an image of {text}."); used by /v1/images/generations and
    /// /v1/audio/speech. Absent: those endpoints are not offered for this modality.
    /// </summary>
    public string? PromptTemplate { get; init; }

    /// <summary>Voices an audio output accepts (OpenAI's "voice"); the model has one sound, so they name presets.</summary>
    public IReadOnlyList<string>? Voices { get; init; }

    /// <summary>The placeholder in <see cref="PromptTemplate"/>.</summary>
    public const string TextPlaceholder = "{text}";
}
