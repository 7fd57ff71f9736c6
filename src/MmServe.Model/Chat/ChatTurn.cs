namespace MmServe.Model.Chat;

/// <summary>One message of a conversation: a role ("system", "developer", "user", "assistant", ...) and its parts.</summary>
public sealed record ChatTurn(string Role, IReadOnlyList<ChatPart> Parts)
{
    /// <summary>An assistant turn's tool calls (rendered by templates that know "tool_calls"); empty for other turns.</summary>
    public IReadOnlyList<ChatToolCall> ToolCalls { get; init; } = [];

    /// <summary>A "tool" turn's answer is to this call id.</summary>
    public string? ToolCallId { get; init; }

    public static ChatTurn FromText(string role, string text) => new(role, [new ChatPart.Text(text)]);
}

/// <summary>A piece of message content: text, or a reference to a media item.</summary>
public abstract record ChatPart
{
    // Closed hierarchy: only the nested cases below exist.
    private ChatPart()
    {
    }

    public sealed record Text(string Value) : ChatPart;

    /// <param name="Modality">Input modality name from the manifest ("image", "audio", "video").</param>
    /// <param name="Index">Which item of that modality in the request (0-based), echoed in the prompt's media spans.</param>
    public sealed record Media(string Modality, int Index) : ChatPart;
}
