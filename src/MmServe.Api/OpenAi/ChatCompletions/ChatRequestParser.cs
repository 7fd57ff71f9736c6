using System.Text.Json;
using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.Serving.Generation;
using MmServe.Api.Serving.Media;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// Validates a deserialized chat request against the served model and the limits, cheapest checks first and
/// before any media is fetched or decoded: model id, messages and their parts, media counts and formats,
/// sampling parameters.
/// </summary>
internal static class ChatRequestParser
{
    /// <param name="request">The deserialized body.</param>
    /// <param name="servedModelId">The only accepted "model".</param>
    /// <param name="media">Which media the server takes, how many per request, and whether remote URLs are fetched.</param>
    /// <param name="outputs">The output modalities the server generates.</param>
    public static (ParsedChatRequest? Request, ApiError? Error) Parse(
        ChatCompletionRequest request, string servedModelId, MediaPolicy media, IReadOnlyDictionary<string, OutputModality> outputs)
    {
        if (string.IsNullOrEmpty(request.Model))
        {
            return Fail(ApiError.Missing("model"));
        }

        if (!string.Equals(request.Model, servedModelId, StringComparison.Ordinal))
        {
            return Fail(ApiError.ModelNotFound(request.Model));
        }

        if (request.Messages is null)
        {
            return Fail(ApiError.Missing("messages"));
        }

        if (request.Messages.Count == 0)
        {
            return Fail(ApiError.InvalidRequest("'messages' must contain at least one message.", "messages", "invalid_value"));
        }

        if (request.N is { } n && n != 1)
        {
            return Fail(n < 1
                ? ApiError.InvalidRequest("'n' must be at least 1.", "n", "invalid_value")
                : ApiError.InvalidRequest("Only n = 1 is supported; send several requests for several choices.", "n", "unsupported_value"));
        }

        var messages = new MessageParser(media);
        if (messages.Parse(request.Messages) is { } messageError)
        {
            return Fail(messageError);
        }

        var (sampling, maxTokensParam, samplingError) = ParseSampling(request);
        if (samplingError is not null)
        {
            return Fail(samplingError);
        }

        var (requestedOutputs, outputError) = OutputModalitiesParser.Parse(request.Modalities, request.Audio, outputs);
        if (outputError is not null)
        {
            return Fail(outputError);
        }

        return (new ParsedChatRequest(
            messages.Conversation,
            messages.Media,
            sampling!,
            request.Stream ?? false,
            request.StreamOptions?.IncludeUsage ?? false,
            request.ReturnTokenIds ?? false,
            maxTokensParam)
        {
            Outputs = requestedOutputs!,
        }, null);
    }

    private static (SamplingParams? Sampling, string MaxTokensParam, ApiError? Error) ParseSampling(ChatCompletionRequest request)
    {
        var maxTokensParam = request.MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens";
        var (stop, stopError) = ParseStop(request.Stop);
        if (stopError is not null)
        {
            return (null, maxTokensParam, stopError);
        }

        var sampling = new SamplingParams
        {
            Temperature = (float)(request.Temperature ?? 1.0),
            TopP = (float)(request.TopP ?? 1.0),
            TopK = request.TopK is -1 ? 0 : request.TopK ?? 0, // -1 is vLLM's "disabled"
            Seed = request.Seed,
            PresencePenalty = (float)(request.PresencePenalty ?? 0.0),
            FrequencyPenalty = (float)(request.FrequencyPenalty ?? 0.0),
            MaxTokens = request.MaxCompletionTokens ?? request.MaxTokens,
            Stop = stop,
            Logprobs = request.Logprobs ?? false,
            TopLogprobs = request.TopLogprobs ?? 0,
            IgnoreEos = request.IgnoreEos ?? false,
        };

        if (sampling.Validate() is { } invalid)
        {
            var param = invalid.Param == "max_tokens" ? maxTokensParam : invalid.Param;
            var message = invalid.Param == "max_tokens" ? invalid.Message.Replace("max_tokens", maxTokensParam, StringComparison.Ordinal) : invalid.Message;
            return (null, maxTokensParam, ApiError.InvalidRequest(message, param, "invalid_value"));
        }

        return (sampling, maxTokensParam, null);
    }

    private static (IReadOnlyList<string> Stop, ApiError? Error) ParseStop(JsonElement? stop)
    {
        if (stop is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return ([], null);
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            return ([element.GetString()!], null);
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return ([], ApiError.WrongType("stop"));
        }

        var list = new List<string>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return ([], ApiError.WrongType($"stop[{list.Count}]"));
            }

            list.Add(item.GetString()!);
        }

        return (list, null);
    }

    private static (ParsedChatRequest?, ApiError?) Fail(ApiError error) => (null, error);
}
