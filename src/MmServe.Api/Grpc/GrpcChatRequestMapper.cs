using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.Serving;
using MmServe.Api.Serving.Media;
using MmServe.Grpc.V1;
using MmServe.Runtime.Onnx.Chat;
using SamplingParams = MmServe.Abstractions.SamplingParams;

namespace MmServe.Api.Grpc;

/// <summary>
/// Validates a gRPC ChatRequest against the served model and the limits, cheapest checks first and before any
/// media is read or decoded: model, output modalities, messages and their parts, media types and counts per
/// modality, sampling. The rules are the REST API's (OpenAi/ChatCompletions: ChatRequestParser, MessageParser);
/// errors name the proto field, e.g. "messages[0].content[1].media.mime_type".
/// </summary>
internal sealed class GrpcChatRequestMapper(MediaPolicy policy, string servedModelId)
{
    public const int MaxRequestIdLength = 128;

    private readonly List<ChatTurn> _conversation = [];
    private readonly List<MediaReference> _media = [];
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    public static (MappedChatRequest? Request, ApiError? Error) Map(ChatRequest request, string servedModelId, MediaPolicy policy) =>
        new GrpcChatRequestMapper(policy, servedModelId).Map(request);

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

        var (sampling, samplingError) = MapSampling(request);
        return samplingError is null ? (new MappedChatRequest(_conversation, _media, sampling!), null) : (null, samplingError);
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

    private static ApiError? CheckOutputModalities(IReadOnlyList<Modality> modalities)
    {
        for (int i = 0; i < modalities.Count; i++)
        {
            switch (modalities[i])
            {
                case Modality.Text:
                    continue;
                case Modality.Image or Modality.Audio:
                    return ApiError.InvalidRequest(
                        $"Generated {ModalityNames.Of(modalities[i])} output is not served over gRPC yet; ask for MODALITY_TEXT only (or leave output_modalities empty).",
                        $"output_modalities[{i}]",
                        GrpcErrors.OutputModalityNotServed);
                default:
                    return ApiError.InvalidRequest(
                        $"Invalid value for 'output_modalities[{i}]': {modalities[i]}. The model answers with text.",
                        $"output_modalities[{i}]",
                        "invalid_value");
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
                ContentPart.PartOneofCase.Media => MapMedia(content[j].Media, role, $"{partParam}.media", parts),
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

    private ApiError? MapMedia(MediaInput media, string role, string param, List<ChatPart> parts)
    {
        if (string.IsNullOrWhiteSpace(media.MimeType))
        {
            return ApiError.Missing($"{param}.mime_type");
        }

        if (!MediaMimeTypes.TryResolve(media.MimeType, out var modality, out var audioFormat))
        {
            return ApiError.InvalidRequest(
                $"Unsupported MIME type '{media.MimeType}'. Supported types are {string.Join(", ", MediaMimeTypes.All)}.",
                $"{param}.mime_type",
                "unsupported_media_type");
        }

        if (CheckMediaAllowed(role, modality, audioFormat, param) is { } notAllowed)
        {
            return notAllowed;
        }

        var (reference, sourceError) = media.SourceCase switch
        {
            MediaInput.SourceOneofCase.Data when media.Data.Length > 0 => (
                new MediaReference(modality, MediaSourceKind.Bytes, media.MimeType, audioFormat, $"{param}.data") { Bytes = media.Data.Memory },
                null),
            MediaInput.SourceOneofCase.Url => MapUrl(media.Url, modality, audioFormat, $"{param}.url"),
            _ => ((MediaReference?)null, ApiError.Missing($"{param}.data")),
        };

        return sourceError ?? Add(reference!, parts);
    }

    private (MediaReference?, ApiError?) MapUrl(string url, string modality, string? audioFormat, string param)
    {
        if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ApiError.InvalidRequest($"The {modality} URL must be an http(s) URL; send the bytes in 'data' instead.", param, $"invalid_{modality}_url"));
        }

        if (!policy.RemoteEnabled)
        {
            return (null, ApiError.InvalidRequest(
                $"Remote media URLs are disabled on this server; send the {modality} bytes in 'data'.", param, "remote_media_disabled"));
        }

        return (new MediaReference(modality, MediaSourceKind.Remote, url, audioFormat, param), null);
    }

    private ApiError? CheckMediaAllowed(string role, string modality, string? audioFormat, string param)
    {
        if (role != "user")
        {
            return ApiError.InvalidRequest(
                $"{char.ToUpperInvariant(modality[0])}{modality[1..]} content is only allowed in user messages, not in '{role}' messages.", param, "invalid_value");
        }

        if (!policy.Accepts(modality))
        {
            // Declared by the model but not decodable here (a missing tool) is the server's state, not a bad request.
            return policy.Unavailable.ContainsKey(modality)
                ? ApiError.InvalidRequest(policy.WhyNot(modality), param, GrpcErrors.ModalityUnavailable)
                : ApiError.InvalidRequest(policy.WhyNot(modality), param, "unsupported_content_type");
        }

        if (audioFormat is not null && !policy.AudioFormats.Contains(audioFormat))
        {
            return AudioInputPreprocessor.FfmpegFormats.Contains(audioFormat)
                ? ApiError.InvalidRequest(
                    $"{audioFormat} audio needs ffmpeg, which this server does not have; send WAV or MP3.", $"{param}.mime_type", GrpcErrors.AudioFormatUnavailable)
                : ApiError.InvalidRequest($"{audioFormat} audio is not supported.", $"{param}.mime_type", "unsupported_audio_format");
        }

        return null;
    }

    /// <summary>Counts the item against its modality's limit, then records it (as the REST MessageParser does).</summary>
    private ApiError? Add(MediaReference reference, List<ChatPart> parts)
    {
        int count = _counts.GetValueOrDefault(reference.Modality) + 1;
        int max = policy.MaxItems(reference.Modality);
        if (count > max)
        {
            var plural = reference.Modality switch
            {
                ServedModel.AudioModality => "audio clips",
                ServedModel.VideoModality => "videos",
                _ => "images",
            };
            return ApiError.InvalidRequest(
                $"Too many {plural}: at most {max} {plural} are allowed per request.", "messages", $"too_many_{plural.Replace(' ', '_')}");
        }

        _counts[reference.Modality] = count;
        parts.Add(new ChatPart.Media(reference.Modality, _media.Count));
        _media.Add(reference);
        return null;
    }

    private static (SamplingParams?, ApiError?) MapSampling(ChatRequest request)
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
