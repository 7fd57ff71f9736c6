using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.Engine.Constraints;
using MmServe.Model.Chat;

namespace MmServe.Serving.Tools;

/// <summary>
/// The grammar of a forced tool call in the model's format: each call is {"name": one of the functions, then its
/// arguments valid under that function's parameters schema}, wrapped as the family writes it. With parallel calls
/// up to <see cref="MaxParallelCalls"/> follow one another (bounded, so that a sampled answer always ends).
/// </summary>
public static class ToolCallGrammar
{
    public const int MaxParallelCalls = 4;

    /// <exception cref="UnsupportedSchemaException">A parameters schema outside the supported subset.</exception>
    public static Grammar Build(ToolCallFormat format, IReadOnlyList<ChatTool> functions, bool parallel)
    {
        var json = new JsonRules(new GrammarBuilder());
        var builder = json.Builder;
        string argumentsKey = format == ToolCallFormat.Llama3Json ? "parameters" : "arguments";
        var call = JsonSchemaGrammar.AddTo(json, CallSchema(functions, argumentsKey));
        int most = parallel ? MaxParallelCalls : 1;
        var root = format switch
        {
            ToolCallFormat.Hermes => HermesCalls(json, call, most),
            ToolCallFormat.Mistral => builder.Rule([builder.Literal("[TOOL_CALLS]"), json.Array(call, 1, most)]),
            _ => builder.Rule([call, json.Repeat([.. GrammarBuilder.Bytes("; "), call], 0, most - 1)]),
        };
        return builder.Build(root);
    }

    private static int HermesCalls(JsonRules json, Symbol call, int most)
    {
        var builder = json.Builder;
        var one = builder.Rule([builder.Literal("<tool_call>\n"), call, builder.Literal("\n</tool_call>")]);
        return builder.Rule([Symbol.Ref(one), json.Repeat([.. GrammarBuilder.Bytes("\n"), Symbol.Ref(one)], 0, most - 1)]);
    }

    /// <summary>anyOf over the functions of {"name": {"const": name}, key: parameters}, both required, nothing else.</summary>
    private static JsonElement CallSchema(IReadOnlyList<ChatTool> functions, string argumentsKey)
    {
        var alternatives = new JsonArray();
        foreach (var function in functions)
        {
            JsonNode parameters = function.Parameters is { } schema ? JsonNode.Parse(schema.GetRawText())! : new JsonObject { ["type"] = "object" };
            alternatives.Add(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["name"] = new JsonObject { ["const"] = function.Name }, [argumentsKey] = parameters },
                ["required"] = new JsonArray("name", argumentsKey),
                ["additionalProperties"] = false,
            });
        }

        return JsonSerializer.SerializeToElement(new JsonObject { ["anyOf"] = alternatives });
    }
}
