using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.ToolCalling;

/// <summary>tools / tool_choice on /v1/chat/completions against mmserve-tiny (a bundle: Hermes format, forced by the grammar).</summary>
public sealed class ToolCallingTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static JsonObject Named(string name) => new() { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } };

    [Fact]
    public async Task RequiredToolChoice_AnswersWithValidCallsAndFinishReasonToolCalls()
    {
        var choices = await Task.WhenAll(Enumerable.Range(0, 24).Select(seed =>
            ToolRequests.CompleteAsync(server.Client, ToolRequests.Request(Chat.Model, "required", seed))));

        foreach (var choice in choices)
        {
            ToolRequests.AssertValidCalls(choice);
            Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        }

        // Both functions get chosen across seeds: the model picks, the grammar only keeps the call well formed.
        Assert.Equal(2, choices.SelectMany(c => ToolRequests.AssertValidCalls(c)).Select(c => c.Name).Distinct().Count());
    }

    [Fact]
    public async Task NamedToolChoice_CallsExactlyThatFunctionOnce()
    {
        var choice = await ToolRequests.CompleteAsync(server.Client, ToolRequests.Request(Chat.Model, Named("zoom"), seed: 5));

        var call = Assert.Single(ToolRequests.AssertValidCalls(choice));
        Assert.Equal("zoom", call.Name);
    }

    [Fact]
    public async Task NoneToolChoice_AnswersWithText()
    {
        var choice = await ToolRequests.CompleteAsync(server.Client, ToolRequests.Request(Chat.Model, "none", seed: 5));

        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
        Assert.NotEqual("tool_calls", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task StreamedToolCalls_HaveOpenAisShape_AndEqualTheNonStreamedAnswer()
    {
        var plain = await ToolRequests.CompleteAsync(server.Client, ToolRequests.Request(Chat.Model, "required", seed: 11));
        var expected = ToolRequests.AssertValidCalls(plain);

        using var response = await Chat.PostStreamingAsync(server.Client, ToolRequests.Request(Chat.Model, "required", seed: 11, stream: true));
        var chunks = await SseChunks(response);

        var deltas = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Where(c => c.GetProperty("delta").TryGetProperty("tool_calls", out _))
            .SelectMany(c => c.GetProperty("delta").GetProperty("tool_calls").EnumerateArray()).ToList();
        var streamed = new List<(string Name, string Arguments)>();
        foreach (var group in deltas.GroupBy(d => d.GetProperty("index").GetInt32()).OrderBy(g => g.Key))
        {
            var first = group.First();
            Assert.StartsWith("call_", first.GetProperty("id").GetString());
            Assert.Equal("function", first.GetProperty("type").GetString());
            var name = first.GetProperty("function").GetProperty("name").GetString()!;
            // Later deltas of the call carry only arguments pieces; all pieces concatenate to the arguments JSON.
            Assert.All(group.Skip(1), d => Assert.False(d.TryGetProperty("id", out _)));
            // A forced call's arguments stream while the model writes them, not as one piece at the end: more than the
            // header delta plus one arguments delta (how many depends on the sampled arguments' length).
            Assert.True(group.Count() > 2, $"call {group.Key} came in {group.Count()} deltas");
            streamed.Add((name, string.Concat(group.Select(d => d.GetProperty("function").GetProperty("arguments").GetString()))));
        }

        Assert.Equal(expected, streamed);
        var finish = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).Select(c => c.GetProperty("finish_reason")).Last();
        Assert.Equal("tool_calls", finish.GetString());
    }

    [Fact]
    public async Task ConversationWithToolCallsAndToolResults_IsAccepted()
    {
        var request = ToolRequests.Request(Chat.Model, "auto", seed: 1);
        request["messages"]!.AsArray().Add(new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = null,
            ["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = "call_1",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "count_shapes", ["arguments"] = """{"color":"red"}""" },
            }),
        });
        request["messages"]!.AsArray().Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "3" });

        var choice = await ToolRequests.CompleteAsync(server.Client, request);

        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
    }

    [Fact]
    public async Task ToolMessageWithoutToolCallId_Is400()
    {
        var request = Chat.Request("hi");
        request["messages"]!.AsArray().Add(new JsonObject { ["role"] = "tool", ["content"] = "3" });

        using var response = await Chat.PostAsync(server.Client, request);

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[1].tool_call_id", "missing_required_parameter");
    }

    [Fact]
    public async Task RequiredWithoutTools_Is400()
    {
        var request = Chat.Request("hi");
        request["tool_choice"] = "required";

        using var response = await Chat.PostAsync(server.Client, request);

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "tool_choice", "invalid_value");
    }

    [Fact]
    public async Task NamedFunctionNotInTools_Is400()
    {
        using var response = await Chat.PostAsync(server.Client, ToolRequests.Request(Chat.Model, Named("draw"), seed: 1));

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "tool_choice.function.name", "invalid_value");
    }

    [Fact]
    public async Task ForcedCallWithUnsupportedParameterKeyword_Is400NamingIt()
    {
        var request = ToolRequests.Request(Chat.Model, "required", seed: 1);
        request["tools"]![0]!["function"]!["parameters"] = JsonNode.Parse("""{"type":"object","properties":{"n":{"type":"integer","multipleOf":2}}}""");

        using var response = await Chat.PostAsync(server.Client, request);

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "tools", "invalid_json_schema");
        Assert.Contains("'multipleOf'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolOfAnotherType_Is400()
    {
        var request = ToolRequests.Request(Chat.Model, "auto", seed: 1);
        request["tools"]![0]!["type"] = "code_interpreter";

        using var response = await Chat.PostAsync(server.Client, request);

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "tools[0].type", "invalid_value");
    }

    private static async Task<List<JsonElement>> SseChunks(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        return [.. body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Trim())
            .Where(e => e.StartsWith("data: {", StringComparison.Ordinal))
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.Clone())];
    }
}
