using MmServe.Grpc.V1;
using MmServe.Serving.Errors;
using MmServe.Serving.Requests;

namespace MmServe.Api.Grpc;

/// <summary>
/// The gRPC edge of a chat request: a ChatRequest's shape (oneofs set, MIME types known, enum values) becomes a
/// <see cref="GenerationInput"/> for the shared <see cref="GenerationRules"/>, which decide what may be asked for,
/// as they do for REST. Errors name the proto field, e.g. "messages[0].content[1].media.mime_type".
/// </summary>
internal static class GrpcChatRequestMapper
{
    public const int MaxRequestIdLength = 128;

    public static (GenerationInput? Input, ServingError? Error) Map(ChatRequest request)
    {
        if (request.RequestId.Length > MaxRequestIdLength)
        {
            // Client ids are echoed in every chunk and in the logs, so they are kept short.
            return (null, ServingError.Invalid($"'request_id' is longer than {MaxRequestIdLength} characters.", "request_id", "invalid_value"));
        }

        var messages = new List<InputMessage>(request.Messages.Count);
        for (int i = 0; i < request.Messages.Count; i++)
        {
            var (message, error) = MapMessage(request.Messages[i], $"messages[{i}]");
            if (error is not null)
            {
                return (null, error);
            }

            messages.Add(message!);
        }

        var (format, formatError) = GrpcToolMapper.MapResponseFormat(request.ResponseFormat);
        var (tools, toolError) = GrpcToolMapper.MapTools(request.Tools);
        if ((formatError ?? toolError) is { } invalid)
        {
            return (null, invalid);
        }

        return (new GenerationInput
        {
            Model = request.Model,
            Messages = messages,
            Sampling = MapSampling(request),
            // Unset is text only; gRPC cannot tell an empty list from an absent one.
            OutputModalities = request.OutputModalities.Count == 0 ? null : [.. request.OutputModalities.Select(ModalityNames.Of)],
            Audio = AudioOutputInput.ServerDefault,
            ResponseFormat = format,
            Tools = tools,
            ToolChoice = GrpcToolMapper.MapToolChoice(request.ToolChoice),
            ParallelToolCalls = request.HasParallelToolCalls ? request.ParallelToolCalls : null,
            Fields = RequestFieldNames.Grpc,
        }, null);
    }

    private static (InputMessage?, ServingError?) MapMessage(Message message, string param)
    {
        var parts = new List<InputPart>(message.Content.Count);
        for (int j = 0; j < message.Content.Count; j++)
        {
            var part = message.Content[j];
            var partParam = $"{param}.content[{j}]";
            var (mapped, error) = part.PartCase switch
            {
                ContentPart.PartOneofCase.Text => (new InputPart.Text(part.Text, partParam), null),
                ContentPart.PartOneofCase.Media => GrpcMediaMapper.Map(part.Media, $"{partParam}.media"),
                ContentPart.PartOneofCase.Tensor => GrpcMediaMapper.MapTensor(part.Tensor, $"{partParam}.tensor"),
                _ => ((InputPart?)null, ServingError.Invalid($"'{partParam}' has neither text nor media.", partParam, "missing_required_parameter")),
            };
            if (error is not null)
            {
                return (null, error);
            }

            parts.Add(mapped!);
        }

        return (new InputMessage(RoleOf(message.Role), parts, param)
        {
            ToolCalls = GrpcToolMapper.MapCalls(message.ToolCalls, param),
            ToolCallId = string.IsNullOrEmpty(message.ToolCallId) ? null : message.ToolCallId,
        }, null);
    }

    /// <summary>The REST role names; unset is absent, and an unknown number is passed on for the rules to refuse.</summary>
    private static string? RoleOf(Role role) => role switch
    {
        Role.System => "system",
        Role.Developer => "developer",
        Role.User => "user",
        Role.Assistant => "assistant",
        Role.Tool => "tool",
        Role.Unspecified => null,
        _ => ((int)role).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static SamplingInput MapSampling(ChatRequest request)
    {
        var s = request.Sampling ?? new MmServe.Grpc.V1.SamplingParams();
        return new SamplingInput
        {
            Temperature = s.HasTemperature ? s.Temperature : null,
            TopP = s.HasTopP ? s.TopP : null,
            TopK = s.HasTopK ? s.TopK : null,
            Seed = s.HasSeed ? s.Seed : null,
            PresencePenalty = s.HasPresencePenalty ? s.PresencePenalty : null,
            FrequencyPenalty = s.HasFrequencyPenalty ? s.FrequencyPenalty : null,
            MaxTokens = s.HasMaxTokens ? s.MaxTokens : null,
            Stop = [.. s.Stop],
            IgnoreEos = s.IgnoreEos,
            Logprobs = request.Logprobs,
            TopLogprobs = request.TopLogprobs,
        };
    }
}
