using MmServe.Model.Chat;
using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Tools;

namespace MmServe.Serving.Requests;

/// <summary>
/// Messages to <see cref="ChatTurn"/>s: known roles, content present (an assistant turn may have none), media only
/// in user turns, only modalities and audio containers this server decodes, remote URLs only when enabled, and
/// each modality's per-request count — all before anything is read.
/// </summary>
public sealed class MessageRules(MediaPolicy policy)
{
    private readonly List<ChatTurn> _conversation = [];
    private readonly MediaItemList _items = new(policy);

    public IReadOnlyList<ChatTurn> Conversation => _conversation;

    /// <summary>Every media item in order of appearance; <see cref="ChatPart.Media.Index"/> indexes this list.</summary>
    public IReadOnlyList<MediaReference> Media => _items.Items;

    public ServingError? Apply(IReadOnlyList<InputMessage> messages)
    {
        foreach (var message in messages)
        {
            if (CheckRole(message.Role, $"{message.Param}.role") is { } roleError)
            {
                return roleError;
            }

            var parts = new List<ChatPart>();
            if (message.Content is null or { Count: 0 })
            {
                // An assistant turn may have no text (OpenAI allows it alongside tool calls).
                if (message.Role != "assistant")
                {
                    return ServingError.Missing($"{message.Param}.content");
                }
            }
            else if (ApplyParts(message.Content, message.Role!, parts) is { } partError)
            {
                return partError;
            }

            var (calls, callError) = ToolCalls(message);
            if (callError is not null)
            {
                return callError;
            }

            if (message.Role == "tool" && string.IsNullOrEmpty(message.ToolCallId))
            {
                return ServingError.Missing($"{message.Param}.tool_call_id");
            }

            _conversation.Add(new ChatTurn(message.Role!, parts) { ToolCalls = calls, ToolCallId = message.Role == "tool" ? message.ToolCallId : null });
        }

        return null;
    }

    private static ServingError? CheckRole(string? role, string param) => role switch
    {
        null or "" => ServingError.Missing(param),
        "system" or "developer" or "user" or "assistant" or "tool" => null,
        "function" => ServingError.Invalid(
            "Messages with role 'function' (OpenAI's deprecated function calling) are not supported; use 'tool' messages.", param, "unsupported_value"),
        _ => ServingError.Invalid(
            $"Invalid value for '{param}': '{role}'. Supported roles are 'system', 'developer', 'user', 'assistant' and 'tool'.", param, "invalid_value"),
    };

    /// <summary>An assistant message's tool calls: each a function call with an id, a name and arguments text.</summary>
    private static (IReadOnlyList<ChatToolCall>, ServingError?) ToolCalls(InputMessage message)
    {
        if (message.ToolCalls is not { Count: > 0 } calls)
        {
            return ([], null);
        }

        if (message.Role != "assistant")
        {
            return ([], ServingError.Invalid($"Only assistant messages may have 'tool_calls', not '{message.Role}' messages.", $"{message.Param}.tool_calls", "invalid_value"));
        }

        var turnCalls = new List<ChatToolCall>(calls.Count);
        foreach (var call in calls)
        {
            var missing = string.IsNullOrEmpty(call.Id) ? "id" : string.IsNullOrEmpty(call.Name) ? "function.name" : call.Arguments is null ? "function.arguments" : null;
            if (missing is not null)
            {
                return ([], ServingError.Missing($"{call.Param}.{missing}"));
            }

            if (call.Type is not (null or "function"))
            {
                return ([], ServingError.Invalid($"Invalid value for '{call.Param}.type': '{call.Type}'. Supported values are: 'function'.", $"{call.Param}.type", "invalid_value"));
            }

            turnCalls.Add(new ChatToolCall(call.Id!, call.Name!, call.Arguments!));
        }

        return (turnCalls, null);
    }

    private ServingError? ApplyParts(IReadOnlyList<InputPart> content, string role, List<ChatPart> parts)
    {
        foreach (var part in content)
        {
            var error = part switch
            {
                InputPart.Text text => AddText(text.Value, parts),
                InputPart.Media media => CheckMedia(media, role) ?? _items.Add(ToReference(media), parts),
                _ => throw new InvalidOperationException($"Unknown part {part.GetType().Name}."),
            };
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static ServingError? AddText(string text, List<ChatPart> parts)
    {
        parts.Add(new ChatPart.Text(text));
        return null;
    }

    private ServingError? CheckMedia(InputPart.Media media, string role)
    {
        var modality = media.Modality;
        if (role != "user")
        {
            return ServingError.Invalid(
                $"{char.ToUpperInvariant(modality[0])}{modality[1..]} content is only allowed in user messages, not in '{role}' messages.", media.Param, "invalid_value");
        }

        if (!policy.Accepts(modality))
        {
            // Declared by the model but not decodable here (a missing tool) is the server's state, not a bad request.
            return policy.Unavailable.ContainsKey(modality)
                ? ServingError.InputUnavailable(policy.WhyNot(modality), media.Param, "modality_unavailable")
                : ServingError.Invalid(policy.WhyNot(modality), media.Param, "unsupported_content_type");
        }

        return CheckAudioFormat(media) ?? CheckRemote(media);
    }

    private ServingError? CheckAudioFormat(InputPart.Media media)
    {
        if (media.Format is not { } format || policy.AudioFormats.Contains(format))
        {
            return null;
        }

        var param = media.FormatParam ?? media.Param;
        return AudioInputPreprocessor.FfmpegFormats.Contains(format)
            ? ServingError.InputUnavailable(
                $"{format} audio needs ffmpeg, which this server does not have; send WAV or MP3.", param, "audio_format_unavailable")
            : ServingError.Invalid(
                $"Invalid value for '{param}': '{format}'. Supported formats are {string.Join(", ", policy.AudioFormats.Order(StringComparer.Ordinal).Select(f => $"'{f}'"))}.",
                param,
                "unsupported_audio_format");
    }

    private ServingError? CheckRemote(InputPart.Media media) => media.Kind == MediaSourceKind.Remote && !policy.RemoteEnabled
        ? ServingError.Invalid(
            $"Remote media URLs are disabled on this server; send the {media.Modality} inline instead.", media.SourceParam, "remote_media_disabled")
        : null;

    private static MediaReference ToReference(InputPart.Media media) =>
        new(media.Modality, media.Kind, media.Source, media.Format, media.SourceParam) { Bytes = media.Bytes };
}
