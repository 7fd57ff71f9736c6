using System.Text.Json;
using MmServe.Model.HuggingFace;

namespace MmServe.Model.GenAi;

/// <summary>
/// genai_config.json "search": the generation defaults ORT GenAI applies when a caller sets none. MmServe uses
/// <see cref="MaxLength"/> (it caps prompt + completion, see <see cref="GenAiConfig.MaxTotalLength"/>),
/// <see cref="PastPresentShareBuffer"/> (the decoder's KV buffer form) and the sampling fields as the model's
/// <see cref="Bundle.SamplingDefaults"/> (request fields left unset take them; docs/models.md).
/// </summary>
public sealed record GenAiSearchDefaults(
    int? MaxLength,
    bool? DoSample,
    double? Temperature,
    double? TopP,
    int? TopK,
    bool PastPresentShareBuffer)
{
    public static GenAiSearchDefaults None { get; } = new(null, null, null, null, null, false);

    /// <summary>The sampling fields as the model's request defaults; one no request could use fails the start.</summary>
    internal Bundle.SamplingDefaults SamplingDefaults(HfJson json)
    {
        var defaults = Bundle.SamplingDefaults.From(DoSample, Temperature, TopP, TopK, maxNewTokens: null, $"{GenAiConfig.FileName} search");
        return defaults.Problem() is var (field, problem) ? throw json.Error($"search.{field}", problem) : defaults;
    }

    internal static GenAiSearchDefaults Read(HfJson json, JsonElement search)
    {
        if (search.ValueKind != JsonValueKind.Object)
        {
            throw json.Error("search", "must be an object");
        }

        var maxLength = json.Int(search, "max_length", "search.max_length");
        if (maxLength is <= 0)
        {
            throw json.Error("search.max_length", $"must be > 0 (got {GenAiConfig.Invariant(maxLength.Value)})");
        }

        var temperature = json.Double(search, "temperature", "search.temperature");
        if (temperature is < 0)
        {
            throw json.Error("search.temperature", "must be >= 0");
        }

        var topP = json.Double(search, "top_p", "search.top_p");
        if (topP is <= 0 or > 1)
        {
            throw json.Error("search.top_p", "must be in (0, 1]");
        }

        var topK = json.Int(search, "top_k", "search.top_k");
        if (topK is < 0)
        {
            throw json.Error("search.top_k", "must be >= 0");
        }

        return new GenAiSearchDefaults(
            maxLength,
            json.Bool(search, "do_sample", "search.do_sample"),
            temperature,
            topP,
            topK,
            json.Bool(search, "past_present_share_buffer", "search.past_present_share_buffer") ?? false);
    }
}
