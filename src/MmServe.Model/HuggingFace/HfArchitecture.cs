namespace MmServe.Model.HuggingFace;

/// <summary>How a chat message's content is handed to an architecture's Jinja chat template.</summary>
public enum HfContentStyle
{
    /// <summary>A string: the text parts joined with "\n" (text-only LLM templates such as Llama 3's, Qwen2's).</summary>
    Text,

    /// <summary>A list of {type: "image"} and {type: "text", text} parts, images first (llava-hf templates).</summary>
    PartList,

    /// <summary>A string with "&lt;|image_N|&gt;\n" tags (numbered across the conversation) before the text (Phi-3-V).</summary>
    NumberedImageTags,

    /// <summary>
    /// A list of {type: "image"}, {type: "video"} and {type: "text", text} parts in content order (Qwen2-VL: each
    /// media part renders as &lt;|vision_start|&gt;&lt;|image_pad|&gt; or &lt;|video_pad|&gt;&lt;|vision_end|&gt;).
    /// </summary>
    OrderedParts,

    /// <summary>
    /// A string: the parts in content order, each audio part written as the processor's audio placeholder
    /// ("&lt;|audio|&gt;"), joined with "\n" (Ultravox, whose Llama 3 template reads string content only).
    /// </summary>
    AudioPlaceholders,
}

/// <summary>
/// One architecture this server runs from a Hugging Face ONNX export (the transformers.js / onnx-community layout):
/// which ONNX sessions it has, how prompts are built and how images are preprocessed. The table mirrors
/// transformers.js 4.3.1 (src/models/session_config.js and each type's modeling/processing file).
/// </summary>
/// <param name="ModelType">config.json "model_type".</param>
/// <param name="DecoderSession">The language model's file stem under onnx/ ("model" or "decoder_model_merged").</param>
/// <param name="EmbedSession">Separate token-embedding session, or null when the decoder takes input_ids.</param>
/// <param name="VisionSession">Image encoder session, or null for text-only models.</param>
/// <param name="ContentStyle">How message content reaches the template.</param>
/// <param name="AddSpecialTokens">
/// Whether the tokenizer's post-processor (e.g. BOS) applies after the template: false for text LLMs (transformers'
/// apply_chat_template tokenizes with add_special_tokens=False), true for processors of vision models, which call
/// the tokenizer on the rendered text with its defaults.
/// </param>
/// <param name="ImagePreprocessing">The preprocessing kind (PreprocessingSpec.KindHf*) of its images, or null.</param>
public sealed record HfArchitecture(
    string ModelType,
    string DecoderSession,
    string? EmbedSession,
    string? VisionSession,
    HfContentStyle ContentStyle,
    bool AddSpecialTokens,
    string? ImagePreprocessing)
{
    /// <summary>Audio encoder session (encoder and projector in one), or null for models without audio input.</summary>
    public string? AudioSession { get; init; }

    /// <summary>Text LLMs: the decoder is onnx/model.onnx (or decoder_model_merged.onnx in older exports).</summary>
    internal static HfArchitecture TextLlm(string type) =>
        new(type, "model", null, null, HfContentStyle.Text, AddSpecialTokens: false, null);

    public static readonly IReadOnlyDictionary<string, HfArchitecture> Supported =
        new Dictionary<string, HfArchitecture>(StringComparer.Ordinal)
        {
            ["llama"] = TextLlm("llama"),
            ["qwen2"] = TextLlm("qwen2"),
            ["phi3"] = TextLlm("phi3"),
            ["llava"] = new("llava", "decoder_model_merged", "embed_tokens", "vision_encoder",
                HfContentStyle.PartList, AddSpecialTokens: true, Bundle.PreprocessingSpec.KindHfClip),
            ["phi3_v"] = new("phi3_v", "model", "prepare_inputs_embeds", "vision_encoder",
                HfContentStyle.NumberedImageTags, AddSpecialTokens: true, Bundle.PreprocessingSpec.KindHfPhi3V),
            ["qwen2_vl"] = new("qwen2_vl", "decoder_model_merged", "embed_tokens", "vision_encoder",
                HfContentStyle.OrderedParts, AddSpecialTokens: true, Bundle.PreprocessingSpec.KindHfQwen2VL),

            // UltravoxProcessor tokenizes the rendered text with add_special_tokens false (the template writes BOS).
            ["ultravox"] = new("ultravox", "decoder_model_merged", "embed_tokens", null,
                HfContentStyle.AudioPlaceholders, AddSpecialTokens: false, null) { AudioSession = "audio_encoder" },
        };

    /// <summary>"llama, qwen2, ..." for error messages.</summary>
    public static string SupportedList => string.Join(", ", Supported.Keys);
}
