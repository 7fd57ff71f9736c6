using System.Text.Json;
using MmServe.Model.Bundle;
using MmServe.Model.HuggingFace;

namespace MmServe.Model.GenAi;

/// <summary>
/// genai_config.json model.decoder.inputs / outputs: the decoder's tensor names, with ORT GenAI's per-layer "%d"
/// rewritten to <see cref="DecoderSpec.LayerPlaceholder"/>. Absent names take ORT GenAI's defaults (the names its
/// model builder writes).
/// </summary>
public sealed record GenAiDecoderIo(
    string InputIds,
    string AttentionMask,
    string PositionIds,
    string PastKey,
    string PastValue,
    string Logits,
    string PresentKey,
    string PresentValue)
{
    private const string OrtLayerPlaceholder = "%d";

    internal static GenAiDecoderIo Read(HfJson json, JsonElement decoder)
    {
        var inputs = GenAiConfig.Object(json, decoder, "inputs", "model.decoder.inputs");
        var outputs = GenAiConfig.Object(json, decoder, "outputs", "model.decoder.outputs");

        // A decoder fed embeddings needs ORT GenAI's separate embedding model (model.embedding), which is not read.
        if (HfJson.Property(inputs, "input_ids") is null && HfJson.Property(inputs, "inputs_embeds") is not null)
        {
            throw json.Error("model.decoder.inputs.inputs_embeds", "is not supported: the decoder must take input_ids (a separate model.embedding is not read)");
        }

        // ORT GenAI can also keep key and value in one tensor per layer (past_names/present_names); MmServe's KV cache cannot.
        foreach (var (section, name, field) in new[] { (inputs, "past_names", "inputs"), (outputs, "present_names", "outputs") })
        {
            if (HfJson.Property(section, name) is not null)
            {
                throw json.Error($"model.decoder.{field}.{name}", "is not supported (combined key/value tensors); use past_key_names/past_value_names and present_key_names/present_value_names");
            }
        }

        return new GenAiDecoderIo(
            Name(json, inputs, "input_ids", "inputs", "input_ids"),
            Name(json, inputs, "attention_mask", "inputs", "attention_mask"),
            Name(json, inputs, "position_ids", "inputs", "position_ids"),
            PerLayer(json, inputs, "past_key_names", "inputs", "past_key_values.%d.key"),
            PerLayer(json, inputs, "past_value_names", "inputs", "past_key_values.%d.value"),
            Name(json, outputs, "logits", "outputs", "logits"),
            PerLayer(json, outputs, "present_key_names", "outputs", "present.%d.key"),
            PerLayer(json, outputs, "present_value_names", "outputs", "present.%d.value"));
    }

    private static string Name(HfJson json, JsonElement section, string key, string sectionName, string fallback)
    {
        var name = json.String(section, key, $"model.decoder.{sectionName}.{key}") ?? fallback;
        return name.Length > 0 ? name : throw json.Error($"model.decoder.{sectionName}.{key}", "must not be empty");
    }

    private static string PerLayer(HfJson json, JsonElement section, string key, string sectionName, string fallback)
    {
        var pattern = Name(json, section, key, sectionName, fallback);
        int first = pattern.IndexOf(OrtLayerPlaceholder, StringComparison.Ordinal);
        if (first < 0 || pattern.IndexOf(OrtLayerPlaceholder, first + 1, StringComparison.Ordinal) >= 0)
        {
            throw json.Error($"model.decoder.{sectionName}.{key}", $"'{pattern}' must contain %d (the layer index) exactly once");
        }

        return pattern.Replace(OrtLayerPlaceholder, DecoderSpec.LayerPlaceholder, StringComparison.Ordinal);
    }
}
