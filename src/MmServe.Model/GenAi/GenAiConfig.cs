using System.Globalization;
using System.Text.Json;
using MmServe.Model.Bundle;
using MmServe.Model.HuggingFace;

namespace MmServe.Model.GenAi;

/// <summary>
/// The fields of an ONNX Runtime GenAI folder's genai_config.json the server uses (docs/models.md, "ORT GenAI
/// folders"). Read leniently like ORT GenAI (unknown keys ignored), strictly where a value is used: every problem is a
/// <see cref="BundleValidationException"/> "genai_config.json: model.decoder.&lt;field&gt; ...".
/// </summary>
/// <param name="Type">model.type: decoder, llama, qwen2 or phi3.</param>
/// <param name="DecoderFile">model.decoder.filename, relative to the folder.</param>
/// <param name="Io">The decoder's tensor names, "{layer}" in the per-layer ones.</param>
/// <param name="ContextLength">model.context_length.</param>
/// <param name="EosTokenIds">model.eos_token_id (an int or a list).</param>
public sealed record GenAiConfig(
    string Type,
    string DecoderFile,
    GenAiDecoderIo Io,
    int HiddenSize,
    int NumLayers,
    int NumAttentionHeads,
    int NumKvHeads,
    int HeadSize,
    int ContextLength,
    int VocabSize,
    IReadOnlyList<int> EosTokenIds,
    int? PadTokenId,
    int? BosTokenId,
    GenAiSearchDefaults Search,
    GenAiSessionOptions SessionOptions)
{
    public const string FileName = "genai_config.json";

    /// <summary>The model types served: decoder-only text LLMs whose decoder takes input_ids.</summary>
    public static readonly IReadOnlyList<string> SupportedTypes = ["decoder", "llama", "qwen2", "phi3"];

    internal static GenAiConfig Read(HfJson json)
    {
        var model = Object(json, json.Root, "model", "model");
        var type = json.String(model, "type", "model.type") ?? throw json.Error("model.type", "is required");
        if (!SupportedTypes.Contains(type, StringComparer.Ordinal))
        {
            throw json.Error("model.type", $"'{type}' is not supported (supported: {string.Join(", ", SupportedTypes)}; vision, speech and embedding sections are not read)");
        }

        var decoder = Object(json, model, "decoder", "model.decoder");
        var file = json.String(decoder, "filename", "model.decoder.filename") ?? throw json.Error("model.decoder.filename", "is required");
        int hidden = json.RequiredPositive(decoder, "hidden_size", "model.decoder.hidden_size");
        int heads = json.RequiredPositive(decoder, "num_attention_heads", "model.decoder.num_attention_heads");
        int kvHeads = json.Int(decoder, "num_key_value_heads", "model.decoder.num_key_value_heads") ?? heads;
        if (kvHeads <= 0 || heads % kvHeads != 0)
        {
            throw json.Error("model.decoder.num_key_value_heads", $"must divide num_attention_heads ({heads}) (got {kvHeads})");
        }

        var search = HfJson.Property(json.Root, "search") is { } searchSection
            ? GenAiSearchDefaults.Read(json, searchSection)
            : GenAiSearchDefaults.None;
        return new GenAiConfig(
            type,
            file,
            GenAiDecoderIo.Read(json, decoder),
            hidden,
            json.RequiredPositive(decoder, "num_hidden_layers", "model.decoder.num_hidden_layers"),
            heads,
            kvHeads,
            json.RequiredPositive(decoder, "head_size", "model.decoder.head_size"),
            json.RequiredPositive(model, "context_length", "model.context_length"),
            json.RequiredPositive(model, "vocab_size", "model.vocab_size"),
            json.IntOrList(model, "eos_token_id", "model.eos_token_id"),
            json.Int(model, "pad_token_id", "model.pad_token_id"),
            json.Int(model, "bos_token_id", "model.bos_token_id"),
            search,
            GenAiSessionOptions.Read(json, decoder));
    }

    /// <summary>A JSON object the format requires, or an error naming it.</summary>
    internal static JsonElement Object(HfJson json, JsonElement parent, string name, string field) =>
        HfJson.Property(parent, name) switch
        {
            { ValueKind: JsonValueKind.Object } value => value,
            null => throw json.Error(field, "is required"),
            _ => throw json.Error(field, "must be an object"),
        };

    /// <summary>The largest total length (prompt + generated) a request may reach: context_length, or less when search.max_length says so (ORT GenAI stops there).</summary>
    public int MaxTotalLength => Search.MaxLength is { } max ? Math.Min(max, ContextLength) : ContextLength;

    /// <summary>
    /// The settings of this genai_config.json the server reads but does not apply (docs/models.md), for the start-up
    /// log: an operator who relies on them (a provider or thread setting in the folder) must hear it.
    /// </summary>
    public IReadOnlyList<string> SettingsNotApplied()
    {
        var ignored = new List<string>();
        void Add(bool present, string field)
        {
            if (present)
            {
                ignored.Add(field);
            }
        }

        Add(SessionOptions.InterOpNumThreads is not null, "model.decoder.session_options.inter_op_num_threads");
        Add(SessionOptions.ProviderNames.Count > 0, $"model.decoder.session_options.provider_options ({string.Join(", ", SessionOptions.ProviderNames)})");
        return ignored;
    }

    internal static string Invariant(int n) => n.ToString(CultureInfo.InvariantCulture);
}
