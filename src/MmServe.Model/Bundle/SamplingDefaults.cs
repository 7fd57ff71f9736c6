using System.Globalization;

namespace MmServe.Model.Bundle;

/// <summary>
/// The sampling settings a model folder recommends: a Hugging Face export's generation_config.json, an ONNX Runtime
/// GenAI folder's genai_config.json "search". A request that leaves a field unset gets the folder's value before
/// OpenAI's default, as vLLM does with its default <c>--generation-config auto</c>; <c>Model:GenerationConfig</c>
/// "openai" turns them off. Only fields the folder sets explicitly count (transformers' own defaults, such as top_k 50,
/// do not), so a folder without them changes nothing.
/// </summary>
/// <param name="Temperature">0 means greedy (the folder says <c>do_sample: false</c>).</param>
/// <param name="MaxNewTokens">generation_config.json's max_new_tokens: the default of max_tokens.</param>
/// <param name="Source">The file and section the values came from, for logs.</param>
public sealed record SamplingDefaults(double? Temperature, double? TopP, int? TopK, int? MaxNewTokens, string Source)
{
    /// <summary>Highest temperature a request may ask for (the engine's bound; a folder above it could not be served).</summary>
    public const double MaxTemperature = 2.0;

    public static SamplingDefaults None { get; } = new(null, null, null, null, "");

    public bool IsEmpty => Temperature is null && TopP is null && TopK is null && MaxNewTokens is null;

    /// <summary>
    /// The defaults of a folder's settings. <paramref name="doSample"/> false means greedy search — in transformers and
    /// in ORT GenAI alike, whose sampling fields are then unused — so it becomes temperature 0 and the rest is dropped.
    /// </summary>
    public static SamplingDefaults From(bool? doSample, double? temperature, double? topP, int? topK, int? maxNewTokens, string source) =>
        doSample == false
            ? new SamplingDefaults(0, null, null, maxNewTokens, source)
            : new SamplingDefaults(temperature, topP, topK, maxNewTokens, source);

    /// <summary>The first field no request could be served with, as (field, problem); null when all are usable.</summary>
    public (string Field, string Problem)? Problem() =>
        Temperature is < 0 or > MaxTemperature ? ("temperature", $"must be between 0 and {MaxTemperature.ToString(CultureInfo.InvariantCulture)}")
        : TopP is <= 0 or > 1 ? ("top_p", "must be in (0, 1]")
        : TopK is < 0 ? ("top_k", "must be >= 0")
        : MaxNewTokens is <= 0 ? ("max_new_tokens", "must be > 0")
        : null;

    /// <summary>"temperature 0.6, top_p 0.9" for the start-up log.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Temperature is { } t)
        {
            parts.Add(t == 0 ? "greedy (do_sample false)" : $"temperature {t.ToString(CultureInfo.InvariantCulture)}");
        }

        if (TopP is { } p)
        {
            parts.Add($"top_p {p.ToString(CultureInfo.InvariantCulture)}");
        }

        if (TopK is { } k)
        {
            parts.Add($"top_k {k.ToString(CultureInfo.InvariantCulture)}");
        }

        if (MaxNewTokens is { } m)
        {
            parts.Add($"max_tokens {m.ToString(CultureInfo.InvariantCulture)}");
        }

        return string.Join(", ", parts);
    }
}
