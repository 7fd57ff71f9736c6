using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Serving.Errors;

namespace MmServe.Serving.Requests;

/// <summary>
/// Sampling fields to engine parameters: unset fields take the model folder's recommended value
/// (<see cref="SamplingDefaults"/>) and then OpenAI's default, top_k -1 means disabled (vLLM), then the engine's own
/// <see cref="SamplingParams.Validate"/> bounds apply, the error naming the field as the client's API names it.
/// </summary>
public static class SamplingRules
{
    public static (SamplingParams? Sampling, ServingError? Error) Apply(SamplingInput input, RequestFieldNames fields, SamplingDefaults? defaults = null)
    {
        defaults ??= SamplingDefaults.None;
        var sampling = new SamplingParams
        {
            Temperature = (float)(input.Temperature ?? defaults.Temperature ?? 1.0),
            TopP = (float)(input.TopP ?? defaults.TopP ?? 1.0),
            TopK = input.TopK is -1 ? 0 : input.TopK ?? defaults.TopK ?? 0,
            Seed = input.Seed,
            PresencePenalty = (float)(input.PresencePenalty ?? 0.0),
            FrequencyPenalty = (float)(input.FrequencyPenalty ?? 0.0),
            MaxTokens = input.MaxTokens ?? defaults.MaxNewTokens,
            Stop = input.Stop,
            Logprobs = input.Logprobs,
            TopLogprobs = input.TopLogprobs ?? 0,
            IgnoreEos = input.IgnoreEos,
        };

        if (sampling.Validate() is not { } invalid)
        {
            return (sampling, null);
        }

        var param = invalid.Param is { } name ? fields.Sampling(name) : null;
        var message = invalid.Param == "max_tokens" ? invalid.Message.Replace("max_tokens", fields.MaxTokens, StringComparison.Ordinal) : invalid.Message;
        return (null, ServingError.Invalid(message, param, "invalid_value"));
    }
}
