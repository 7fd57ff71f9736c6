using MmServe.Api.Errors;
using MmServe.Grpc.V1;
using SamplingParams = MmServe.Abstractions.SamplingParams;

namespace MmServe.Api.Grpc;

/// <summary>
/// A ChatRequest's sampling fields to engine parameters: unset optional fields take OpenAI's defaults, then the
/// engine's own <see cref="SamplingParams.Validate"/> rules apply, the error naming the proto field.
/// </summary>
internal static class GrpcSamplingMapper
{
    public static (SamplingParams? Sampling, ApiError? Error) Map(ChatRequest request)
    {
        var s = request.Sampling ?? new MmServe.Grpc.V1.SamplingParams();
        var sampling = new SamplingParams
        {
            Temperature = s.HasTemperature ? s.Temperature : 1f,
            TopP = s.HasTopP ? s.TopP : 1f,
            TopK = s.HasTopK ? s.TopK : 0,
            Seed = s.HasSeed ? s.Seed : null,
            PresencePenalty = s.HasPresencePenalty ? s.PresencePenalty : 0f,
            FrequencyPenalty = s.HasFrequencyPenalty ? s.FrequencyPenalty : 0f,
            MaxTokens = s.HasMaxTokens ? s.MaxTokens : null,
            Stop = [.. s.Stop],
            IgnoreEos = s.IgnoreEos,
            Logprobs = request.Logprobs,
            TopLogprobs = request.TopLogprobs,
        };

        if (sampling.Validate() is not { } invalid)
        {
            return (sampling, null);
        }

        // logprobs / top_logprobs are request fields; the rest live in "sampling".
        var param = invalid.Param is "top_logprobs" or "logprobs" ? invalid.Param : $"sampling.{invalid.Param}";
        return (null, ApiError.InvalidRequest(invalid.Message, param, "invalid_value"));
    }
}
