namespace MmServe.Serving.Tools;

/// <summary>What the tool-call reader makes of the output as it streams.</summary>
public abstract record ToolStreamEvent
{
    private ToolStreamEvent()
    {
    }

    /// <summary>Free text for the client (message content).</summary>
    public sealed record Content(string Text) : ToolStreamEvent;

    /// <summary>A call begins: OpenAI's first delta.tool_calls[i] (index, id, type, function.name).</summary>
    public sealed record CallStarted(int Index, string Id, string Name) : ToolStreamEvent;

    /// <summary>A piece of call <paramref name="Index"/>'s arguments; the pieces concatenate to its JSON.</summary>
    public sealed record CallArguments(int Index, string Text) : ToolStreamEvent;
}
