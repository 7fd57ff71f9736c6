using System.Text.Json;
using Grpc.Core;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>mmserve.v1 carries structured output and tool calling as REST does: same grammar, same calls, same refusals (as statuses).</summary>
public sealed class StructuredOutputAndToolTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>
{
    private const string Schema = """
        {"type":"object","properties":{"kind":{"enum":["circle","square"]},"size":{"type":"integer"},"label":{"type":"string","maxLength":10}},
         "required":["kind","size","label"],"additionalProperties":false}
        """;

    private const string CountParameters = """{"type":"object","properties":{"color":{"type":"string","maxLength":12}},"required":["color"],"additionalProperties":false}""";

    private static ChatRequest Sampled(int seed)
    {
        var request = Requests.Text("Describe a shape.", 150);
        request.Sampling.Temperature = 1;
        request.Sampling.Seed = seed;
        return request;
    }

    private static ChatRequest WithSchema(int seed, string schema = Schema)
    {
        var request = Sampled(seed);
        request.ResponseFormat = new ResponseFormat { JsonSchema = new JsonSchemaFormat { Name = "shape", SchemaJson = schema } };
        return request;
    }

    private static ChatRequest WithRequiredTool(int seed)
    {
        var request = Sampled(seed);
        request.Tools.Add(new Tool { Name = "count_shapes", Description = "Counts shapes of a color.", ParametersJson = CountParameters });
        request.ToolChoice = new ToolChoice { Mode = ToolChoiceMode.Required };
        request.ParallelToolCalls = false;
        return request;
    }

    [Fact]
    public async Task JsonSchemaFormat_UnaryAndStreamedAnswersValidateAndAgree()
    {
        for (int seed = 0; seed < 8; seed++)
        {
            var unary = await server.Chat.ChatAsync(WithSchema(seed));
            var streamed = await StreamedChat.ReadAsync(server.Chat, WithSchema(seed));

            SchemaValidation.AssertValid(Schema, unary.Text);
            Assert.Equal(FinishReason.Stop, unary.FinishReason);
            Assert.Equal(unary.Text, streamed.Text);
        }
    }

    [Fact]
    public async Task RequiredTool_UnaryGivesAValidCall_AndTheStreamCarriesTheSameCall()
    {
        var unary = await server.Chat.ChatAsync(WithRequiredTool(4));
        var streamed = await StreamedChat.ReadAsync(server.Chat, WithRequiredTool(4));

        Assert.Equal(FinishReason.ToolCalls, unary.FinishReason);
        var call = Assert.Single(unary.ToolCalls);
        Assert.Equal("count_shapes", call.Name);
        Assert.StartsWith("call_", call.Id);
        SchemaValidation.AssertValid(CountParameters, call.ArgumentsJson);

        var deltas = streamed.Chunks.Where(c => c.EventCase == ChatChunk.EventOneofCase.ToolCall).Select(c => c.ToolCall).ToList();
        Assert.Equal("count_shapes", deltas[0].Name);
        Assert.StartsWith("call_", deltas[0].Id);
        Assert.All(deltas, d => Assert.Equal(0, d.Index));
        Assert.Equal(call.ArgumentsJson, string.Concat(deltas.Select(d => d.Arguments)));
        Assert.Equal(FinishReason.ToolCalls, streamed.Finished.Reason);
        // The call's text is not repeated as plain text; its tokens are still reported.
        Assert.Equal("", streamed.Text);
        Assert.Equal(unary.TokenIds, streamed.TokenIds);
    }

    [Fact]
    public async Task ConversationWithACallAndItsResult_IsAccepted()
    {
        var request = Requests.Text("How many red shapes?", 8);
        request.Tools.Add(new Tool { Name = "count_shapes", ParametersJson = CountParameters });
        request.Messages.Add(new Message { Role = Role.Assistant, ToolCalls = { new ToolCall { Id = "call_1", Name = "count_shapes", ArgumentsJson = """{"color":"red"}""" } } });
        request.Messages.Add(new Message { Role = Role.Tool, ToolCallId = "call_1", Content = { new ContentPart { Text = "3" } } });

        var response = await server.Chat.ChatAsync(request);

        Assert.NotEqual(FinishReason.Unspecified, response.FinishReason);
    }

    [Fact]
    public async Task UnsupportedSchemaKeyword_IsInvalidArgumentNamingIt()
    {
        var e = await RpcAssert.ChatFailsAsync(server.Chat, WithSchema(1, """{"type":"string","pattern":"a+"}"""), StatusCode.InvalidArgument, "invalid_json_schema", "response_format");

        Assert.Contains("'pattern'", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SchemaThatIsNotJson_IsInvalidArgument()
    {
        await RpcAssert.ChatFailsAsync(server.Chat, WithSchema(1, "{not json"), StatusCode.InvalidArgument, "invalid_value", "response_format.json_schema.schema_json");
    }

    [Fact]
    public async Task NamedFunctionNotInTools_IsInvalidArgument()
    {
        var request = WithRequiredTool(1);
        request.ToolChoice = new ToolChoice { FunctionName = "draw" };

        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "invalid_value", "tool_choice.function.name");
    }
}
