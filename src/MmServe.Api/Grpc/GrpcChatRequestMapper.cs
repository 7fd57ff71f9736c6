using MmServe.Api.Errors;
using MmServe.Api.Serving.Generation;
using MmServe.Api.Serving.Media;
using MmServe.Grpc.V1;
using MmServe.Model.Chat;

namespace MmServe.Api.Grpc;

/// <summary>
/// Validates a gRPC ChatRequest against the served model and the limits, cheapest checks first and before any
/// media is read or decoded: model, output modalities, messages and their parts, media types and counts per
/// modality (<see cref="GrpcMediaCollector"/>), sampling (<see cref="GrpcSamplingMapper"/>). The rules are the REST
/// API's (OpenAi/ChatCompletions: ChatRequestParser, MessageParser); errors name the proto field, e.g.
/// "messages[0].content[1].media.mime_type".
/// </summary>
internal sealed class GrpcChatRequestMapper(MediaPolicy policy, string servedModelId, IReadOnlyDictionary<string, OutputModality> outputs)
{
    public const int MaxRequestIdLength = 128;

    private readonly List<ChatTurn> _conversation = [];
    private readonly GrpcMediaCollector _media = new(policy);
    private readonly List<OutputModality> _outputs = [];

    /// <param name="request">The call's request.</param>
    /// <param name="servedModelId">The only accepted "model".</param>
    /// <param name="policy">Which media the server takes and how many per request.</param>
    /// <param name="outputs">The output modalities the server generates (image, audio).</param>
    public static (MappedChatRequest? Request, ApiError? Error) Map(
        ChatRequest request, string servedModelId, MediaPolicy policy, IReadOnlyDictionary<string, OutputModality> outputs) =>
        new GrpcChatRequestMapper(policy, servedModelId, outputs).Map(request);

    private (MappedChatRequest?, ApiError?) Map(ChatRequest request)
    {
        var error = CheckRequestId(request.RequestId)
            ?? CheckModel(request.Model)
            ?? CheckOutputModalities(request.OutputModalities)
            ?? MapMessages(request.Messages);
        if (error is not null)
        {
            return (null, error);
        }

        var (sampling, samplingError) = GrpcSamplingMapper.Map(request);
        return samplingError is null
            ? (new MappedChatRequest(_conversation, _media.Items, sampling!) { Outputs = _outputs }, null)
            : (null, samplingError);
    }

    /// <summary>Client ids are echoed in every chunk and in the logs, so they are kept short.</summary>
    private static ApiError? CheckRequestId(string requestId) => requestId.Length <= MaxRequestIdLength
        ? null
        : ApiError.InvalidRequest($"'request_id' is longer than {MaxRequestIdLength} characters.", "request_id", "invalid_value");

    private ApiError? CheckModel(string model)
    {
        if (string.IsNullOrEmpty(model))
        {
            return ApiError.Missing("model");
        }

        return string.Equals(model, servedModelId, StringComparison.Ordinal) ? null : ApiError.ModelNotFound(model);
    }

    /// <summary>Text is always produced; image and audio when the model generates them (as REST "modalities").</summary>
    private ApiError? CheckOutputModalities(IReadOnlyList<Modality> modalities)
    {
        for (int i = 0; i < modalities.Count; i++)
        {
            var modality = modalities[i];
            if (modality == Modality.Text)
            {
                continue;
            }

            var name = modality is Modality.Image or Modality.Audio ? ModalityNames.Of(modality) : null;
            if (name is null || !outputs.TryGetValue(name, out var output))
            {
                var offered = string.Join(", ", new[] { "MODALITY_TEXT" }.Concat(outputs.Keys.Order(StringComparer.Ordinal).Select(k => $"MODALITY_{k.ToUpperInvariant()}")));
                return ApiError.InvalidRequest(
                    $"This model cannot produce {modality} output; it produces {offered}.", $"output_modalities[{i}]", "unsupported_value");
            }

            if (!_outputs.Contains(output))
            {
                _outputs.Add(output);
            }
        }

        return null;
    }

    private ApiError? MapMessages(IReadOnlyList<Message> messages)
    {
        if (messages.Count == 0)
        {
            return ApiError.InvalidRequest("'messages' must contain at least one message.", "messages", "invalid_value");
        }

        for (int i = 0; i < messages.Count; i++)
        {
            var param = $"messages[{i}]";
            var (role, roleError) = MapRole(messages[i].Role, $"{param}.role");
            if (roleError is not null)
            {
                return roleError;
            }

            var parts = new List<ChatPart>();
            if (MapContent(messages[i].Content, role!, $"{param}.content", parts) is { } contentError)
            {
                return contentError;
            }

            _conversation.Add(new ChatTurn(role!, parts));
        }

        return null;
    }

    private static (string? Role, ApiError? Error) MapRole(Role role, string param) => role switch
    {
        Role.System => ("system", null),
        Role.Developer => ("developer", null),
        Role.User => ("user", null),
        Role.Assistant => ("assistant", null),
        Role.Unspecified => (null, ApiError.Missing(param)),
        _ => (null, ApiError.InvalidRequest(
            $"Invalid value for '{param}': {(int)role}. Supported roles are ROLE_SYSTEM, ROLE_DEVELOPER, ROLE_USER and ROLE_ASSISTANT.", param, "invalid_value")),
    };

    private ApiError? MapContent(IReadOnlyList<ContentPart> content, string role, string param, List<ChatPart> parts)
    {
        if (content.Count == 0)
        {
            // An assistant turn may have no text, as in the REST API.
            return role == "assistant" ? null : ApiError.Missing(param);
        }

        for (int j = 0; j < content.Count; j++)
        {
            var partParam = $"{param}[{j}]";
            var error = content[j].PartCase switch
            {
                ContentPart.PartOneofCase.Text => AddText(content[j].Text, parts),
                ContentPart.PartOneofCase.Media => _media.Add(content[j].Media, role, $"{partParam}.media", parts),
                _ => ApiError.InvalidRequest($"'{partParam}' has neither text nor media.", partParam, "missing_required_parameter"),
            };
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static ApiError? AddText(string text, List<ChatPart> parts)
    {
        parts.Add(new ChatPart.Text(text));
        return null;
    }
}
