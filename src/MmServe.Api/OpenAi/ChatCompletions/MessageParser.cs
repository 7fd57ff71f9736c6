using System.Text.Json;
using MmServe.Api.Errors;
using MmServe.Api.Serving;
using MmServe.Runtime.Onnx.Chat;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// Turns OpenAI messages into <see cref="ChatTurn"/>s. Content is a string or an array of parts; text and
/// image_url parts are served, audio and video parts are refused for now. Images are only collected here (as
/// data: URLs) and counted against the limit as they are met, so an oversized request costs no decoding.
/// </summary>
internal sealed class MessageParser(int maxImages, bool acceptsImages)
{
    private readonly List<ChatTurn> _conversation = [];
    private readonly List<ImageReference> _images = [];

    public IReadOnlyList<ChatTurn> Conversation => _conversation;

    public IReadOnlyList<ImageReference> Images => _images;

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
                return ParseImage(part, role, param, parts);

            case "input_audio":
                return NotYet("Audio input ('input_audio' parts) is not supported by this server yet.", param);

            case "video_url":
                return NotYet("Video input ('video_url' parts) is not supported by this server yet.", param);

            case "audio_url":
            case "file":
            case "input_file":
            case "refusal":
                return NotYet($"Content parts of type '{typeElement.GetString()}' are not supported by this server.", param);

            default:
                return ApiError.InvalidRequest(
                    $"Invalid value for '{param}.type': '{typeElement.GetString()}'. Supported types are 'text' and 'image_url'.",
                    $"{param}.type",
                    "invalid_value");
        }
    }

    private ApiError? ParseImage(JsonElement part, string role, string param, List<ChatPart> parts)
    {
        if (role != "user")
        {
            return ApiError.InvalidRequest($"Image content is only allowed in user messages, not in '{role}' messages.", param, "invalid_value");
        }

        if (!acceptsImages)
        {
            return NotYet("The served model does not take image input.", param);
        }

        if (!part.TryGetProperty("image_url", out var imageUrl))
        {
            return ApiError.Missing($"{param}.image_url");
        }

        // OpenAI sends {"url", "detail"}; some clients send the URL as a bare string.
        string urlParam = $"{param}.image_url";
        JsonElement url = imageUrl;
        if (imageUrl.ValueKind == JsonValueKind.Object)
        {
            if (!imageUrl.TryGetProperty("url", out url))
            {
                return ApiError.Missing($"{urlParam}.url");
            }

            urlParam += ".url";
            if (imageUrl.TryGetProperty("detail", out var detail) && detail.ValueKind != JsonValueKind.Null
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
        if (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return ApiError.InvalidRequest(
                "Remote media URLs are disabled on this server; send the image inline as a base64 data: URL.",
                urlParam,
                "remote_media_disabled");
        }

        if (!value.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return ApiError.InvalidRequest("The image URL must be a base64 data: URL (data:image/png;base64,...).", urlParam, "invalid_image_url");
        }

        if (_images.Count >= maxImages)
        {
            return ApiError.InvalidRequest(
                $"Too many images: at most {maxImages} images are allowed per request.", "messages", "too_many_images");
        }

        parts.Add(new ChatPart.Media(ServedModel.ImageModality, _images.Count));
        _images.Add(new ImageReference(value, urlParam));
        return null;
    }

    private static ApiError NotYet(string message, string param) =>
        ApiError.InvalidRequest(message, param, "unsupported_content_type");
}
