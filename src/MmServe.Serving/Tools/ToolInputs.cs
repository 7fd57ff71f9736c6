using System.Text.Json;

namespace MmServe.Serving.Tools;

/// <summary>One entry of "tools" as sent: {"type":"function","function":{"name","description","parameters"}}.</summary>
/// <param name="Param">The entry's field, e.g. "tools[1]".</param>
public sealed record ToolInput(string? Type, string? Name, string? Description, JsonElement? Parameters, string Param);

/// <summary>
/// "tool_choice" as sent: "none", "auto", "required", or {"type":"function","function":{"name"}} (then
/// <paramref name="Mode"/> is "function").
/// </summary>
public sealed record ToolChoiceInput(string? Mode, string? FunctionName, string Param = "tool_choice");

/// <summary>One call of an assistant message in the conversation: {"id","type":"function","function":{"name","arguments"}}.</summary>
/// <param name="Arguments">The arguments as the JSON text the model wrote.</param>
/// <param name="Param">The call's field, e.g. "messages[2].tool_calls[0]".</param>
public sealed record InputToolCall(string? Id, string? Type, string? Name, string? Arguments, string Param);
