using System.Text.Json;

namespace MmServe.Model.Chat;

/// <summary>A function the model may call, as chat templates receive it in "tools".</summary>
/// <param name="Parameters">Its arguments' JSON Schema; null for a function without parameters.</param>
public sealed record ChatTool(string Name, string? Description, JsonElement? Parameters);

/// <summary>A call an assistant turn made: its id, the function and the arguments as the JSON text the model wrote.</summary>
public sealed record ChatToolCall(string Id, string Name, string Arguments);
