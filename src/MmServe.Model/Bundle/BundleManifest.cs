namespace MmServe.Model.Bundle;

/// <summary>
/// The bundle's manifest.json (format "mmserve.bundle/v1", see docs/model-bundle.md). JSON keys are the snake_case
/// forms of the property names. Unknown keys are ignored so older servers can read newer bundles.
/// Deserialization only checks presence and JSON types; <see cref="BundleLoader"/> checks the semantics.
/// </summary>
public sealed record BundleManifest
{
    public const string FormatV1 = "mmserve.bundle/v1";

    public required string Format { get; init; }
    public required string Id { get; init; }
    public string? Description { get; init; }
    public required int MaxContext { get; init; }
    public required TokenizerSpec Tokenizer { get; init; }
    public required ChatTemplateSpec ChatTemplate { get; init; }

    /// <summary>ONNX files by component name; other sections refer to components by these names.</summary>
    public required IReadOnlyDictionary<string, ComponentSpec> Components { get; init; }

    /// <summary>
    /// The token-embedding component; required in v1 bundles. Null for a Hugging Face export whose decoder takes
    /// input_ids itself (<see cref="DecoderSpec.InputIds"/>).
    /// </summary>
    public EmbeddingSpec? Embedding { get; init; }
    public required DecoderSpec Decoder { get; init; }

    /// <summary>Gated cross-attention models only (family "gated_cross_attention"); null otherwise.</summary>
    public CrossAttentionSpec? CrossAttention { get; init; }

    /// <summary>
    /// Other forms of the same decoder, by name, that a server may be told to load instead (Model:DecoderVariant):
    /// e.g. "gqa", mmserve-tiny's GroupQueryAttention decoder with a shared KV buffer. Each names its component and
    /// KV buffer; its inputs, outputs and dimensions are those of <see cref="Decoder"/>. Empty when absent.
    /// </summary>
    public IReadOnlyDictionary<string, DecoderVariantSpec> DecoderVariants
    {
        get;
        init => field = value ?? new Dictionary<string, DecoderVariantSpec>();
    } = new Dictionary<string, DecoderVariantSpec>();

    // "?? empty" below: the source-generated deserializer assigns every init-only property, null when absent.

    /// <summary>Media the model reads, keyed by modality name ("image", "audio", "video"); empty when absent.</summary>
    public IReadOnlyDictionary<string, InputModalitySpec> InputModalities
    {
        get;
        init => field = value ?? new Dictionary<string, InputModalitySpec>();
    } = new Dictionary<string, InputModalitySpec>();

    /// <summary>Media the model writes, keyed by modality name ("image", "audio"); empty when absent.</summary>
    public IReadOnlyDictionary<string, OutputModalitySpec> OutputModalities
    {
        get;
        init => field = value ?? new Dictionary<string, OutputModalitySpec>();
    } = new Dictionary<string, OutputModalitySpec>();
}

/// <summary>manifest.json "tokenizer": the HF tokenizer.json file and the tokens the server treats specially.</summary>
public sealed record TokenizerSpec
{
    public required string File { get; init; }

    /// <summary>Any of these ends generation.</summary>
    public required IReadOnlyList<string> EosTokens { get; init; }

    public string? PadToken { get; init; }

    /// <summary>Prepended to prompts when non-null (the declarative chat template does not add it itself).</summary>
    public string? BosToken { get; init; }
}

/// <summary>
/// manifest.json "chat_template": the declarative template the server renders (the Jinja file is for other tools).
/// </summary>
public sealed record ChatTemplateSpec
{
    /// <summary>HF Jinja form of the same template, kept for reference; optional.</summary>
    public string? File { get; init; }

    /// <summary>Rendered once per message with "{role}" and "{content}" substituted.</summary>
    public required string MessageFormat { get; init; }

    /// <summary>Appended after the last message when the model should answer.</summary>
    public required string GenerationPrompt { get; init; }

    /// <summary>Joins the content parts (text and media placeholders) of one message.</summary>
    public required string PartSeparator { get; init; }

    /// <summary>Used as a leading system message when the conversation has none.</summary>
    public string? DefaultSystemPrompt { get; init; }

    /// <summary>How offered functions and assistant tool calls are written; null: the model is never shown tools.</summary>
    public ChatTemplateToolsSpec? Tools { get; init; }
}

/// <summary>
/// manifest.json "chat_template.tools": a bundle trained to call tools (mmserve-tiny-tools). The offered functions
/// become one leading system message, system_prefix + "name(param, ...)" joined by ", " (compact: small models have
/// short contexts); an assistant turn's calls are written after its content with call_format, whose {call} is
/// {"name": …, "arguments": …} in Python json.dumps form (the form the recipe trained on, whatever form the client
/// echoes the arguments in).
/// </summary>
public sealed record ChatTemplateToolsSpec
{
    /// <summary>Starts the tools system message, e.g. "Tools: ".</summary>
    public required string SystemPrefix { get; init; }

    /// <summary>One call, e.g. "&lt;tool_call&gt;\n{call}\n&lt;/tool_call&gt;"; must contain {call}.</summary>
    public required string CallFormat { get; init; }
}
