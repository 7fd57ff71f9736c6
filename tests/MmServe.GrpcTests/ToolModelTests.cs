using System.Text.Json.Nodes;
using Google.Protobuf;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>The tool-calling conformance bundle (models/mmserve-tiny-tools) served alone, with a gRPC channel.</summary>
public sealed class ToolModelGrpcFixture() : GrpcServer(new MmServeFactory(new Dictionary<string, string?> { ["Model:Path"] = ToolModel.Bundle }));

/// <summary>
/// mmserve.v1 against mmserve-tiny-tools, as the REST tests do: held-out calls right in ≥ 95 % of the cases unary and
/// streamed (tool choice unset = auto with tools), and the whole cascade: call → the tool run on the scene → answer.
/// </summary>
public sealed class ToolModelTests(ToolModelGrpcFixture server) : IClassFixture<ToolModelGrpcFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HeldOutToolCalls_AreRightInAtLeast95Percent(bool stream)
    {
        var cases = ToolModel.FirstTurns.ToList();
        var outcomes = await Task.WhenAll(cases.Select(async c =>
        {
            if (!stream)
            {
                var unary = await server.Chat.ChatAsync(Request(c));
                return (Calls: unary.ToolCalls.Select(t => (t.Name, t.ArgumentsJson)).ToList(), unary.Text);
            }

            var streamed = await StreamedChat.ReadAsync(server.Chat, Request(c));
            var deltas = streamed.Chunks.Where(k => k.EventCase == ChatChunk.EventOneofCase.ToolCall).Select(k => k.ToolCall).ToList();
            var calls = deltas.GroupBy(d => d.Index).OrderBy(g => g.Key).Select(g => (g.First().Name, string.Concat(g.Select(d => d.Arguments)))).ToList();
            return (Calls: calls, streamed.Text);
        }));

        var wrong = cases.Zip(outcomes).Where(x => !IsRight(x.First, x.Second.Calls, x.Second.Text)).Select(x => x.First.Id).ToList();
        double accuracy = 1 - (double)wrong.Count / cases.Count;
        Assert.True(accuracy >= 0.95, $"{accuracy:P1} right over {cases.Count} cases (stream={stream}); wrong: {string.Join(", ", wrong.Take(12))}");
    }

    [Fact]
    public async Task Cascade_CallThenToolResultThenAnswer()
    {
        foreach (var c in ToolModel.HeldOut.Where(c => c.ExpectedCall is not null).GroupBy(c => c.ExpectedCall!["name"]!.GetValue<string>()).Select(g => g.First()))
        {
            var request = Request(c);
            var first = await server.Chat.ChatAsync(request);

            Assert.Equal(FinishReason.ToolCalls, first.FinishReason);
            var call = Assert.Single(first.ToolCalls);
            Assert.True(IsRight(c, [(call.Name, call.ArgumentsJson)], ""), $"{c.Id}: {call.Name}{call.ArgumentsJson}");
            string argument = JsonNode.Parse(call.ArgumentsJson)![WorldTools.Parameter(call.Name)]!.GetValue<string>();
            var result = WorldTools.Run(call.Name, argument, c.Scene ?? []);

            request.Messages.Add(new Message { Role = Role.Assistant, ToolCalls = { call } });
            request.Messages.Add(new Message { Role = Role.Tool, ToolCallId = call.Id, Content = { new ContentPart { Text = result.ToJsonString() } } });
            var answer = await server.Chat.ChatAsync(request);

            Assert.Equal(FinishReason.Stop, answer.FinishReason);
            Assert.Empty(answer.ToolCalls);
            Assert.Equal(WorldTools.Answer(call.Name, argument, result), answer.Text);
        }
    }

    private static bool IsRight(ToolCase c, List<(string Name, string Arguments)> calls, string text) => c.ExpectedCall is { } expected
        ? calls.Count == 1 && calls[0].Name == expected["name"]!.GetValue<string>() && JsonNode.DeepEquals(JsonNode.Parse(calls[0].Arguments), expected["arguments"])
        : calls.Count == 0 && text == c.ExpectedAnswer;

    /// <summary>The held-out case's OpenAI messages and tools as an mmserve.v1 request (greedy).</summary>
    private static ChatRequest Request(ToolCase c)
    {
        var request = new ChatRequest { Model = ToolModel.Id, Sampling = new SamplingParams { Temperature = 0, MaxTokens = c.MaxTokens } };
        foreach (var tool in c.Tools)
        {
            var f = tool!["function"]!;
            request.Tools.Add(new Tool { Name = f["name"]!.GetValue<string>(), Description = f["description"]!.GetValue<string>(), ParametersJson = f["parameters"]!.ToJsonString() });
        }

        foreach (var m in c.Messages)
        {
            var message = new Message { Role = m!["role"]!.GetValue<string>() switch { "system" => Role.System, "user" => Role.User, "assistant" => Role.Assistant, _ => Role.Tool } };
            foreach (var call in m["tool_calls"]?.AsArray() ?? [])
            {
                message.ToolCalls.Add(new ToolCall { Id = call!["id"]!.GetValue<string>(), Name = call["function"]!["name"]!.GetValue<string>(), ArgumentsJson = call["function"]!["arguments"]!.GetValue<string>() });
            }

            message.ToolCallId = m["tool_call_id"]?.GetValue<string>() ?? "";
            var content = m["content"];
            if (content is JsonValue text)
            {
                message.Content.Add(new ContentPart { Text = text.GetValue<string>() });
            }

            foreach (var part in content as JsonArray ?? [])
            {
                message.Content.Add(part!["type"]!.GetValue<string>() == "text"
                    ? new ContentPart { Text = part["text"]!.GetValue<string>() }
                    : new ContentPart { Media = new MediaInput { MimeType = "image/png", Data = ByteString.CopyFrom(DataUrlBytes(part["image_url"]!["url"]!.GetValue<string>())) } });
            }

            request.Messages.Add(message);
        }

        return request;
    }

    private static byte[] DataUrlBytes(string url) => Convert.FromBase64String(url[(url.IndexOf(',', StringComparison.Ordinal) + 1)..]);
}
