using System.Text.Json;
using MmServe.Api.Errors;
using MmServe.Serving.Requests;
using MmServe.Serving.Structured;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// The REST edge of a chat request: the deserialized body's shape (JSON types, required sub-fields) becomes a
/// <see cref="GenerationInput"/> plus the options that only shape the answer. What the request may ask for is
/// decided by the shared <see cref="GenerationRules"/>, not here.
/// </summary>
internal static class ChatRequestParser
{
    public static (GenerationInput? Input, ChatAnswerOptions? Answer, ApiError? Error) Parse(ChatCompletionRequest request)
    {
        IReadOnlyList<InputMessage>? messages = null;
        if (request.Messages is not null)
        {
            var (parsed, messageError) = MessageParser.Parse(request.Messages);
            if (messageError is not null)
            {
                return (null, null, messageError);
            }

            messages = parsed;
        }

        var (stop, stopError) = ParseStop(request.Stop);
        if (stopError is not null)
        {
            return (null, null, stopError);
        }

        var maxTokensParam = request.MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens";
        var input = new GenerationInput
        {
            Model = request.Model,
            Messages = messages,
            N = request.N,
            Sampling = new SamplingInput
            {
                Temperature = request.Temperature,
                TopP = request.TopP,
                TopK = request.TopK,
                Seed = request.Seed,
                PresencePenalty = request.PresencePenalty,
                FrequencyPenalty = request.FrequencyPenalty,
                MaxTokens = request.MaxCompletionTokens ?? request.MaxTokens,
                Stop = stop,
                Logprobs = request.Logprobs ?? false,
                TopLogprobs = request.TopLogprobs,
                IgnoreEos = request.IgnoreEos ?? false,
            },
            OutputModalities = request.Modalities,
            Audio = request.Audio is { } audio ? new AudioOutputInput(audio.Voice, audio.Format) : null,
            ResponseFormat = request.ResponseFormat is { } format
                ? new ResponseFormatInput(format.Type, format.JsonSchema is not null, format.JsonSchema?.Name, NullIfJsonNull(format.JsonSchema?.Schema))
                : null,
            Fields = RequestFieldNames.OpenAi(maxTokensParam),
        };
        var answer = new ChatAnswerOptions(request.Stream ?? false, request.StreamOptions?.IncludeUsage ?? false, request.ReturnTokenIds ?? false);
        return (input, answer, null);
    }

    private static JsonElement? NullIfJsonNull(JsonElement? element) => element is { ValueKind: not JsonValueKind.Null } value ? value : null;

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
}

/// <summary>What shapes the REST answer but not the generation.</summary>
/// <param name="Stream">Answer with server-sent events.</param>
/// <param name="IncludeUsage">stream_options.include_usage: a usage chunk before [DONE].</param>
/// <param name="ReturnTokenIds">Extension: prompt and completion token ids in the answer.</param>
internal sealed record ChatAnswerOptions(bool Stream, bool IncludeUsage, bool ReturnTokenIds);
