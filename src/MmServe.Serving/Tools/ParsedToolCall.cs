namespace MmServe.Serving.Tools;

/// <summary>A tool call read from the model's output.</summary>
/// <param name="Id">The id the server gave it ("call_…"), which the client's tool message answers.</param>
/// <param name="Arguments">The arguments as JSON text, as the model wrote them.</param>
public sealed record ParsedToolCall(string Id, string Name, string Arguments)
{
    public static string NewId() => "call_" + Guid.NewGuid().ToString("N")[..24];
}

/// <summary>The output split into free text (null when there is none) and tool calls.</summary>
public sealed record ParsedOutput(string? Content, IReadOnlyList<ParsedToolCall> ToolCalls);
