using System.Text.Json;
using MmServe.Api.Errors;
using MmServe.Serving.Requests;
using MmServe.Serving.Structured;
using MmServe.Serving.Tools;

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

        var (toolChoice, choiceError) = ParseToolChoice(request.ToolChoice);
        if (choiceError is not null)
        {
            return (null, null, choiceError);
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
            Tools = request.Tools?.Select((tool, i) => new ToolInput(
                tool?.Type, tool?.Function?.Name, tool?.Function?.Description, NullIfJsonNull(tool?.Function?.Parameters), $"tools[{i}]")).ToList(),
            ToolChoice = toolChoice,
            ParallelToolCalls = request.ParallelToolCalls,
            Fields = RequestFieldNames.OpenAi(maxTokensParam),
        };
        var answer = new ChatAnswerOptions(request.Stream ?? false, request.StreamOptions?.IncludeUsage ?? false, request.ReturnTokenIds ?? false);
        return (input, answer, null);
    }

    /// <summary>tool_choice: a mode string, or {"type":"function","function":{"name"}}.</summary>
    private static (ToolChoiceInput? Choice, ApiError? Error) ParseToolChoice(JsonElement? choice)
    {
        const string Param = "tool_choice";
        if (choice is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            return (new ToolChoiceInput(element.GetString(), null), null);
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return (null, ApiError.WrongType(Param));
        }

        if (!element.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
        {
            return (null, ApiError.Missing($"{Param}.function"));
        }

        if (!function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            return (null, ApiError.Missing($"{Param}.function.name"));
        }

        return (new ToolChoiceInput("function", name.GetString()), null);
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
