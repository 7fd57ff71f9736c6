using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MmServe.FunctionalTests.ToolCalling;

/// <summary>Tool definitions shaped like the survey's tool-augmented systems (a vision tool, an audio tool) and request helpers.</summary>
internal static class ToolRequests
{
    public const string ZoomParameters = """
        {"type":"object","properties":{
            "region":{"enum":["top_left","top_right","bottom_left","bottom_right","center"]},
            "factor":{"type":"integer"}},
         "required":["region","factor"],"additionalProperties":false}
        """;

    public const string CountParameters = """
        {"type":"object","properties":{"color":{"type":"string","minLength":1,"maxLength":12}},"required":["color"],"additionalProperties":false}
        """;

    public static readonly Dictionary<string, string> Parameters = new() { ["zoom"] = ZoomParameters, ["count_shapes"] = CountParameters };

    public static JsonArray Tools() => [.. Parameters.Select(p => (JsonNode)new JsonObject
    {
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = p.Key, ["description"] = $"The {p.Key} tool.", ["parameters"] = JsonNode.Parse(p.Value) },
    })];

    public static JsonObject Request(string model, JsonNode? toolChoice, int seed, bool stream = false, bool? parallel = null)
    {
        var request = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "How many red shapes are in the top left?" }),
            ["temperature"] = 1,
            ["seed"] = seed,
            ["max_tokens"] = 150,
            ["tools"] = Tools(),
            ["tool_choice"] = toolChoice,
            ["stream"] = stream,
        };
        if (parallel is { } p)
        {
            request["parallel_tool_calls"] = p;
        }

        return request;
    }

    public static async Task<JsonElement> CompleteAsync(HttpClient client, JsonObject request)
    {
        using var response = await client.PostAsJsonAsync(Chat.Route, request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("choices")[0].Clone();
    }

    /// <summary>Checks every call of a choice: a known function, arguments valid under its schema; returns the calls.</summary>
    public static List<(string Name, string Arguments)> AssertValidCalls(JsonElement choice)
    {
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        var calls = message.GetProperty("tool_calls").EnumerateArray().Select(call =>
        {
            Assert.StartsWith("call_", call.GetProperty("id").GetString());
            Assert.Equal("function", call.GetProperty("type").GetString());
            var name = call.GetProperty("function").GetProperty("name").GetString()!;
            var arguments = call.GetProperty("function").GetProperty("arguments").GetString()!;
            Assert.True(Parameters.ContainsKey(name), $"unknown function {name}");
            SchemaValidation.AssertValid(Parameters[name], arguments);
            return (name, arguments);
        }).ToList();
        Assert.NotEmpty(calls);
        return calls;
    }
}
