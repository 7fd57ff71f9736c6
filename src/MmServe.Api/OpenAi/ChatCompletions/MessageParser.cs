using System.Text.Json;
using MmServe.Api.Errors;
using MmServe.Serving;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Tools;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// OpenAI messages to <see cref="InputMessage"/>s: content is a string or an array of parts — text, image_url,
/// input_audio (OpenAI's base64 audio), audio_url and video_url (vLLM's shapes). Only the JSON shape is checked
/// here; roles, media rules and counts are the shared <see cref="GenerationRules"/>' business. Nothing is fetched
/// or decoded.
/// </summary>
internal static class MessageParser
{
    public static (IReadOnlyList<InputMessage>? Messages, ApiError? Error) Parse(IReadOnlyList<ChatMessage?> messages)
    {
        var parsed = new List<InputMessage>(messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            var param = $"messages[{i}]";
            if (messages[i] is not { } message)
            {
                return (null, ApiError.WrongType(param));
            }

            var (content, error) = ParseContent(message.Content, $"{param}.content");
            if (error is not null)
            {
                return (null, error);
            }

            parsed.Add(new InputMessage(message.Role, content, param)
            {
                ToolCalls = message.ToolCalls?.Select((call, c) => new InputToolCall(
                    call?.Id, call?.Type, call?.Function?.Name, call?.Function?.Arguments, $"{param}.tool_calls[{c}]")).ToList(),
                ToolCallId = message.ToolCallId,
            });
        }

        return (parsed, null);
    }

    private static (IReadOnlyList<InputPart>? Content, ApiError? Error) ParseContent(JsonElement? content, string param)
    {
        if (content is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            return ([new InputPart.Text(element.GetString()!, param)], null);
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return (null, ApiError.WrongType(param));
        }

        var parts = new List<InputPart>();
        foreach (var part in element.EnumerateArray())
        {
            var (parsed, error) = ParsePart(part, $"{param}[{parts.Count}]");
            if (error is not null)
            {
                return (null, error);
            }

            parts.Add(parsed!);
        }

        return parts.Count == 0
            ? (null, ApiError.InvalidRequest($"'{param}' must not be an empty array.", param, "invalid_value"))
            : (parts, null);
    }

    private static (InputPart? Part, ApiError? Error) ParsePart(JsonElement part, string param)
    {
        if (part.ValueKind != JsonValueKind.Object)
        {
            return Fail(ApiError.WrongType(param));
        }

        if (!part.TryGetProperty("type", out var typeElement))
        {
            return Fail(ApiError.Missing($"{param}.type"));
        }

        if (typeElement.ValueKind != JsonValueKind.String)
        {
            return Fail(ApiError.WrongType($"{param}.type"));
        }

        var type = typeElement.GetString();
        return type switch
        {
            "text" => ParseText(part, param),
            "image_url" => ParseUrlPart(part, param, type, ServedModel.ImageModality),
            "input_audio" => ParseInputAudio(part, param),
            "audio_url" => ParseUrlPart(part, param, type, ServedModel.AudioModality),
            "video_url" => ParseUrlPart(part, param, type, ServedModel.VideoModality),
            "input_tensor" => TensorPartParser.Parse(part, param),
            "file" or "input_file" or "refusal" => Fail(ApiError.InvalidRequest(
                $"Content parts of type '{type}' are not supported by this server.", param, "unsupported_content_type")),
            _ => Fail(ApiError.InvalidRequest(
                $"Invalid value for '{param}.type': '{type}'. Supported types are 'text', 'image_url', 'input_audio', 'audio_url', 'video_url' and 'input_tensor'.",
                $"{param}.type",
                "invalid_value")),
        };
    }

    private static (InputPart?, ApiError?) ParseText(JsonElement part, string param)
    {
        if (!part.TryGetProperty("text", out var text))
        {
            return Fail(ApiError.Missing($"{param}.text"));
        }

        return text.ValueKind == JsonValueKind.String
            ? (new InputPart.Text(text.GetString()!, param), null)
            : Fail(ApiError.WrongType($"{param}.text"));
    }

    /// <summary>image_url / audio_url / video_url: {"url": ...} (or a bare string URL, as some clients send).</summary>
    private static (InputPart?, ApiError?) ParseUrlPart(JsonElement part, string param, string field, string modality)
    {
        if (!part.TryGetProperty(field, out var holder))
        {
            return Fail(ApiError.Missing($"{param}.{field}"));
        }

        string urlParam = $"{param}.{field}";
        JsonElement url = holder;
        if (holder.ValueKind == JsonValueKind.Object)
        {
            if (!holder.TryGetProperty("url", out url))
            {
                return Fail(ApiError.Missing($"{urlParam}.url"));
            }

            urlParam += ".url";
            if (field == "image_url" && holder.TryGetProperty("detail", out var detail) && detail.ValueKind != JsonValueKind.Null
                && (detail.ValueKind != JsonValueKind.String || detail.GetString() is not ("auto" or "low" or "high")))
            {
                return Fail(ApiError.InvalidRequest(
                    $"Invalid value for '{param}.image_url.detail'. Supported values are 'auto', 'low' and 'high'.",
                    $"{param}.image_url.detail",
                    "invalid_value"));
            }
        }

        if (url.ValueKind != JsonValueKind.String)
        {
            return Fail(ApiError.WrongType(urlParam));
        }

        var value = url.GetString()!;
        MediaSourceKind kind;
        if (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            kind = MediaSourceKind.Remote;
        }
        else if (value.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            kind = MediaSourceKind.DataUrl;
        }
        else
        {
            return Fail(ApiError.InvalidRequest(
                $"The {modality} URL must be a base64 data: URL (or an http(s) URL where remote media is enabled).", urlParam, $"invalid_{modality}_url"));
        }

        return (new InputPart.Media(modality, kind, value, null, urlParam, null, param), null);
    }

    /// <summary>OpenAI's {"type":"input_audio","input_audio":{"data": base64, "format": "wav"}}.</summary>
    private static (InputPart?, ApiError?) ParseInputAudio(JsonElement part, string param)
    {
        var audioParam = $"{param}.input_audio";
        if (!part.TryGetProperty("input_audio", out var audio))
        {
            return Fail(ApiError.Missing(audioParam));
        }

        if (audio.ValueKind != JsonValueKind.Object)
        {
            return Fail(ApiError.WrongType(audioParam));
        }

        if (!audio.TryGetProperty("data", out var data))
        {
            return Fail(ApiError.Missing($"{audioParam}.data"));
        }

        if (data.ValueKind != JsonValueKind.String)
        {
            return Fail(ApiError.WrongType($"{audioParam}.data"));
        }

        if (!audio.TryGetProperty("format", out var format))
        {
            return Fail(ApiError.Missing($"{audioParam}.format"));
        }

        if (format.ValueKind != JsonValueKind.String)
        {
            return Fail(ApiError.WrongType($"{audioParam}.format"));
        }

        return (new InputPart.Media(
            ServedModel.AudioModality, MediaSourceKind.Base64, data.GetString()!, format.GetString()!, $"{audioParam}.data", $"{audioParam}.format", param), null);
    }

    private static (InputPart?, ApiError?) Fail(ApiError error) => (null, error);
}
