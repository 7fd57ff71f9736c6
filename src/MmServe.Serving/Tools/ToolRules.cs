using MmServe.Engine.Constraints;
using MmServe.Model.Chat;
using MmServe.Serving.Errors;
using MmServe.Serving.Requests;
using MmServe.Serving.Structured;

namespace MmServe.Serving.Tools;

/// <summary>
/// tools, tool_choice and parallel_tool_calls → a <see cref="ToolPlan"/>: function tools with valid, distinct
/// names; tool_choice "none" | "auto" | "required" | a named function among the tools; "required" and a named
/// function compile the forced-call grammar (so their parameter schemas must be in the supported subset).
/// </summary>
public static class ToolRules
{
    /// <param name="tools">"tools" as sent; null when absent.</param>
    /// <param name="choice">"tool_choice"; null: "auto" with tools, "none" without.</param>
    /// <param name="parallel">"parallel_tool_calls"; null: true, as OpenAI.</param>
    /// <param name="format">The model's tool-call format.</param>
    /// <param name="cache">The model's compiled constraints.</param>
    public static (ToolPlan? Plan, ServingError? Error) Apply(
        IReadOnlyList<ToolInput>? tools, ToolChoiceInput? choice, bool? parallel, ToolCallFormat format, ConstraintCache cache)
    {
        var (functions, toolError) = Functions(tools ?? []);
        if (toolError is not null)
        {
            return (null, toolError);
        }

        string mode = choice?.Mode ?? (functions!.Count > 0 ? "auto" : "none");
        string param = choice?.Param ?? "tool_choice";
        switch (mode)
        {
            case "none" or "auto" when functions!.Count == 0:
                return (null, null);
            case "none":
                return (new ToolPlan(functions, false, format, null), null);
            case "auto":
                return (new ToolPlan(functions, true, format, null), null);
            case "required" or "function" when functions!.Count == 0:
                return (null, ServingError.Invalid($"'{param}' requires 'tools' to list at least one function.", param, "invalid_value"));
            case "required":
                return Forced(functions, functions, parallel ?? true, format, cache, "tools");
            case "function":
                var named = functions.Where(f => f.Name == choice!.FunctionName).ToList();
                return named.Count == 0
                    ? (null, ServingError.Invalid($"'{param}' names the function '{choice!.FunctionName}', which is not in 'tools'.", $"{param}.function.name", "invalid_value"))
                    : Forced(functions, named, false, format, cache, "tools");
            default:
                return (null, ServingError.Invalid(
                    $"Invalid value for '{param}': '{mode}'. Supported values are 'none', 'auto', 'required' or {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}.", param, "invalid_value"));
        }
    }

    private static (ToolPlan?, ServingError?) Forced(
        IReadOnlyList<ChatTool> all, IReadOnlyList<ChatTool> allowed, bool parallel, ToolCallFormat format, ConstraintCache cache, string param)
    {
        var key = $"tools:{format}:{parallel}:" + string.Join('\u0001', allowed.Select(f => f.Name + '\u0002' + f.Parameters?.GetRawText()));
        try
        {
            var constraint = cache.GetOrCompile(key, () => ToolCallGrammar.Build(format, allowed, parallel));
            return (new ToolPlan(all, true, format, constraint), null);
        }
        catch (UnsupportedSchemaException e)
        {
            return (null, ServingError.Invalid($"A function's parameters cannot be enforced for tool_choice: {e.Message}", param, "invalid_json_schema"));
        }
    }

    private static (IReadOnlyList<ChatTool>?, ServingError?) Functions(IReadOnlyList<ToolInput> tools)
    {
        var functions = new List<ChatTool>();
        foreach (var tool in tools)
        {
            if (tool.Type != "function")
            {
                return (null, tool.Type is null
                    ? ServingError.Missing($"{tool.Param}.type")
                    : ServingError.Invalid($"Invalid value for '{tool.Param}.type': '{tool.Type}'. Supported values are: 'function'.", $"{tool.Param}.type", "invalid_value"));
            }

            if (string.IsNullOrEmpty(tool.Name))
            {
                return (null, ServingError.Missing($"{tool.Param}.function.name"));
            }

            if (!WireNames.IsValid(tool.Name))
            {
                return (null, ServingError.Invalid(
                    $"Invalid '{tool.Param}.function.name': '{tool.Name}'. Names are 1-64 characters of a-z, A-Z, 0-9, underscores and dashes.", $"{tool.Param}.function.name", "invalid_value"));
            }

            if (functions.Any(f => f.Name == tool.Name))
            {
                return (null, ServingError.Invalid($"The function name '{tool.Name}' appears twice in 'tools'.", $"{tool.Param}.function.name", "invalid_value"));
            }

            if (tool.Parameters is { ValueKind: not System.Text.Json.JsonValueKind.Object })
            {
                return (null, ServingError.Invalid($"'{tool.Param}.function.parameters' must be a JSON Schema object.", $"{tool.Param}.function.parameters", "invalid_value"));
            }

            functions.Add(new ChatTool(tool.Name, tool.Description, tool.Parameters));
        }

        return (functions, null);
    }
}
