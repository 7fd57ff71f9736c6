using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MmServe.FunctionalTests.ToolCalling;

/// <summary>
/// Tool calling on the conformance LLMs (Hugging Face exports with their real chat templates): the template shows the
/// tools to the model (the prompt grows), forced calls come out in the family's format — Hermes for tiny-qwen2,
/// Llama 3 JSON ("parameters") for tiny-llama3 — and are read back into valid tool_calls, streamed and not; a
/// conversation with the calls and their results renders through the template.
/// </summary>
public sealed class ConformanceToolCallTests
{
    public static TheoryData<string> Models() => ["tiny-qwen2", "tiny-llama3"];

    [Theory]
    [MemberData(nameof(Models))]
    public async Task ForcedCalls_AreValid_AndTheToolsReachThePrompt(string model)
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?> { ["Model:Path"] = ConformanceGolden.ModelPath(model) });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();

        var choices = await Task.WhenAll(Enumerable.Range(0, 40).Select(seed =>
            ToolRequests.CompleteAsync(client, ToolRequests.Request(model, "required", seed, parallel: seed % 2 == 0))));
        foreach (var choice in choices)
        {
            ToolRequests.AssertValidCalls(choice);
        }

        Assert.True(await PromptTokensAsync(client, model, withTools: true) > await PromptTokensAsync(client, model, withTools: false) + 50);

        // The answered call goes back through the template (assistant tool_calls, then the tool's result).
        var request = ToolRequests.Request(model, "auto", seed: 1);
        var (name, arguments) = ToolRequests.AssertValidCalls(choices[1])[0];
        request["messages"]!.AsArray().Add(new JsonObject
        {
            ["role"] = "assistant",
            ["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = "call_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
            }),
        });
        request["messages"]!.AsArray().Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "3" });
        var answer = await ToolRequests.CompleteAsync(client, request);
        Assert.NotNull(answer.GetProperty("finish_reason").GetString());
    }

    private static async Task<int> PromptTokensAsync(HttpClient client, string model, bool withTools)
    {
        var request = ToolRequests.Request(model, withTools ? "none" : null, seed: 1);
        request["max_tokens"] = 1;
        if (!withTools)
        {
            request.Remove("tools");
        }

        using var response = await client.PostAsJsonAsync(Chat.Route, request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
    }
}
