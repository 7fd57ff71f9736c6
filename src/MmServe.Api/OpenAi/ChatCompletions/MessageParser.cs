using System.Text.Json;
using MmServe.Api.Errors;
using MmServe.Api.Serving;
using MmServe.Api.Serving.Media;
using MmServe.Model.Chat;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// Turns OpenAI messages into <see cref="ChatTurn"/>s. Content is a string or an array of parts: text,
/// image_url, input_audio (OpenAI's base64 audio), audio_url and video_url (vLLM's shapes). Media are only
/// collected here and counted against the per-modality limits as they are met, so an oversized request costs
/// no fetching or decoding.
/// </summary>
internal sealed class MessageParser(MediaPolicy policy)
{
    private readonly List<ChatTurn> _conversation = [];
    private readonly MediaItemList _items = new(policy);

    public IReadOnlyList<ChatTurn> Conversation => _conversation;

    /// <summary>Every media item in order of appearance; <see cref="ChatPart.Media.Index"/> indexes this list.</summary>
    public IReadOnlyList<MediaReference> Media => _items.Items;

    public ApiError? Parse(IReadOnlyList<ChatMessage?> messages)
    {
        for (int i = 0; i < messages.Count; i++)
        {
            var param = $"messages[{i}]";
            if (messages[i] is not { } message)
            {
                return ApiError.WrongType(param);
            }

            if (CheckRole(message.Role, param) is { } roleError)
            {
                return roleError;
            }

            var parts = new List<ChatPart>();
            if (ParseContent(message, param, parts) is { } contentError)
            {
                return contentError;
            }

            _conversation.Add(new ChatTurn(message.Role!, parts));
        }

        return null;
    }

    private static ApiError? CheckRole(string? role, string param) => role switch
    {
        null => ApiError.Missing($"{param}.role"),
        "system" or "developer" or "user" or "assistant" => null,
        "tool" or "function" => ApiError.InvalidRequest(
            $"Messages with role '{role}' are not supported: this server does not offer tool calling.",
            $"{param}.role",
            "unsupported_value"),
        _ => ApiError.InvalidRequest(
            $"Invalid value for '{param}.role': '{role}'. Supported roles are 'system', 'developer', 'user' and 'assistant'.",
            $"{param}.role",
            "invalid_value"),
    };

    private ApiError? ParseContent(ChatMessage message, string param, List<ChatPart> parts)
    {
        var contentParam = $"{param}.content";
        if (message.Content is not { } content || content.ValueKind == JsonValueKind.Null)
        {
            // An assistant turn may have no text (OpenAI allows it alongside tool calls).
            return message.Role == "assistant" ? null : ApiError.Missing(contentParam);
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            parts.Add(new ChatPart.Text(content.GetString()!));
            return null;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return ApiError.WrongType(contentParam);
        }

        int j = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (ParsePart(part, message.Role!, $"{contentParam}[{j}]", parts) is { } partError)
            {
                return partError;
            }

            j++;
        }

        return j == 0
            ? ApiError.InvalidRequest($"'{contentParam}' must not be an empty array.", contentParam, "invalid_value")
            : null;
    }

    private ApiError? ParsePart(JsonElement part, string role, string param, List<ChatPart> parts)
    {
        if (part.ValueKind != JsonValueKind.Object)
        {
            return ApiError.WrongType(param);
        }

        if (!part.TryGetProperty("type", out var typeElement))
        {
            return ApiError.Missing($"{param}.type");
        }

        if (typeElement.ValueKind != JsonValueKind.String)
        {
            return ApiError.WrongType($"{param}.type");
        }

        switch (typeElement.GetString())
        {
            case "text":
                if (!part.TryGetProperty("text", out var text))
                {
                    return ApiError.Missing($"{param}.text");
                }

                if (text.ValueKind != JsonValueKind.String)
                {
                    return ApiError.WrongType($"{param}.text");
                }

                parts.Add(new ChatPart.Text(text.GetString()!));
                return null;

            case "image_url":
                return ParseUrlPart(part, role, param, "image_url", ServedModel.ImageModality, parts);

            case "input_audio":
                return ParseInputAudio(part, role, param, parts);

            case "audio_url":
                return ParseUrlPart(part, role, param, "audio_url", ServedModel.AudioModality, parts);

            case "video_url":
                return ParseUrlPart(part, role, param, "video_url", ServedModel.VideoModality, parts);

            case "file":
            case "input_file":
            case "refusal":
                return Unsupported($"Content parts of type '{typeElement.GetString()}' are not supported by this server.", param);

            default:
                return ApiError.InvalidRequest(
                    $"Invalid value for '{param}.type': '{typeElement.GetString()}'. Supported types are 'text', 'image_url', 'input_audio', 'audio_url' and 'video_url'.",
                    $"{param}.type",
                    "invalid_value");
        }
    }

    /// <summary>image_url / audio_url / video_url: {"url": ...} (or a bare string URL, as some clients send).</summary>
    private ApiError? ParseUrlPart(JsonElement part, string role, string param, string field, string modality, List<ChatPart> parts)
    {
        if (CheckMediaAllowed(role, modality, param) is { } notAllowed)
        {
            return notAllowed;
        }

        if (!part.TryGetProperty(field, out var holder))
        {
            return ApiError.Missing($"{param}.{field}");
        }

        string urlParam = $"{param}.{field}";
        JsonElement url = holder;
        if (holder.ValueKind == JsonValueKind.Object)
        {
            if (!holder.TryGetProperty("url", out url))
            {
                return ApiError.Missing($"{urlParam}.url");
            }

            urlParam += ".url";
            if (field == "image_url" && holder.TryGetProperty("detail", out var detail) && detail.ValueKind != JsonValueKind.Null
                && (detail.ValueKind != JsonValueKind.String || detail.GetString() is not ("auto" or "low" or "high")))
            {
                return ApiError.InvalidRequest(
                    $"Invalid value for '{param}.image_url.detail'. Supported values are 'auto', 'low' and 'high'.",
                    $"{param}.image_url.detail",
                    "invalid_value");
            }
        }

        if (url.ValueKind != JsonValueKind.String)
        {
            return ApiError.WrongType(urlParam);
        }

        var value = url.GetString()!;
        MediaSourceKind kind;
        if (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            if (!policy.RemoteEnabled)
            {
                return ApiError.InvalidRequest(
                    $"Remote media URLs are disabled on this server; send the {modality} inline as a base64 data: URL.",
                    urlParam,
                    "remote_media_disabled");
            }

            kind = MediaSourceKind.Remote;
        }
        else if (value.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            kind = MediaSourceKind.DataUrl;
        }
        else
        {
            return ApiError.InvalidRequest(
                $"The {modality} URL must be a base64 data: URL{(policy.RemoteEnabled ? " or an http(s) URL" : "")}.", urlParam, $"invalid_{modality}_url");
        }

        return Add(new MediaReference(modality, kind, value, null, urlParam), parts);
    }

    /// <summary>OpenAI's {"type":"input_audio","input_audio":{"data": base64, "format": "wav"}}.</summary>
    private ApiError? ParseInputAudio(JsonElement part, string role, string param, List<ChatPart> parts)
    {
        if (CheckMediaAllowed(role, ServedModel.AudioModality, param) is { } notAllowed)
        {
            return notAllowed;
        }

        var audioParam = $"{param}.input_audio";
        if (!part.TryGetProperty("input_audio", out var audio))
        {
            return ApiError.Missing(audioParam);
        }

        if (audio.ValueKind != JsonValueKind.Object)
        {
            return ApiError.WrongType(audioParam);
        }

        if (!audio.TryGetProperty("data", out var data))
        {
            return ApiError.Missing($"{audioParam}.data");
        }

        if (data.ValueKind != JsonValueKind.String)
        {
            return ApiError.WrongType($"{audioParam}.data");
        }

        if (!audio.TryGetProperty("format", out var format))
        {
            return ApiError.Missing($"{audioParam}.format");
        }

        if (format.ValueKind != JsonValueKind.String)
        {
            return ApiError.WrongType($"{audioParam}.format");
        }

        var name = format.GetString()!;
        if (!policy.AudioFormats.Contains(name))
        {
            return ApiError.InvalidRequest(
                $"Invalid value for '{audioParam}.format': '{name}'. Supported formats are {string.Join(", ", policy.AudioFormats.Order(StringComparer.Ordinal).Select(f => $"'{f}'"))}.",
                $"{audioParam}.format",
                "unsupported_audio_format");
        }

        return Add(new MediaReference(ServedModel.AudioModality, MediaSourceKind.Base64, data.GetString()!, name, $"{audioParam}.data"), parts);
    }

    private ApiError? CheckMediaAllowed(string role, string modality, string param)
    {
        if (role != "user")
        {
            return ApiError.InvalidRequest(
                $"{char.ToUpperInvariant(modality[0])}{modality[1..]} content is only allowed in user messages, not in '{role}' messages.", param, "invalid_value");
        }

        return policy.Accepts(modality) ? null : Unsupported(policy.WhyNot(modality), param);
    }

    /// <summary>Counts the item against its modality's limit, then records it.</summary>
    private ApiError? Add(MediaReference reference, List<ChatPart> parts) => _items.Add(reference, parts);

    private static ApiError Unsupported(string message, string param) =>
        ApiError.InvalidRequest(message, param, "unsupported_content_type");
}
