namespace MmServe.Serving.Requests;

/// <summary>
/// How an API names the request fields the shared rules report: REST has OpenAI's flat sampling fields and
/// "modalities"; gRPC nests sampling under "sampling" and says "output_modalities". Message and content params
/// come with the input itself.
/// </summary>
/// <param name="SamplingPrefix">Put before a sampling field's name ("" or "sampling.").</param>
/// <param name="MaxTokens">The completion-length field the client used ("max_tokens", "max_completion_tokens"...).</param>
/// <param name="OutputModalities">The output modalities list.</param>
/// <param name="Audio">The audio output settings object.</param>
/// <param name="Modality">How a modality value is written in a message ("'image'", "MODALITY_IMAGE").</param>
public sealed record RequestFieldNames(string SamplingPrefix, string MaxTokens, string OutputModalities, string Audio, Func<string, string> Modality)
{
    public static RequestFieldNames OpenAi(string maxTokens) => new("", maxTokens, "modalities", "audio", m => $"'{m}'");

    public static RequestFieldNames Grpc { get; } = new("sampling.", "sampling.max_tokens", "output_modalities", "audio", m => $"MODALITY_{m.ToUpperInvariant()}");

    /// <summary>The field of a sampling parameter named as the engine names it ("top_p", "max_tokens"...).</summary>
    public string Sampling(string name) => name switch
    {
        // Request-level on every API.
        "logprobs" or "top_logprobs" => name,
        "max_tokens" => MaxTokens,
        _ => SamplingPrefix + name,
    };
}
