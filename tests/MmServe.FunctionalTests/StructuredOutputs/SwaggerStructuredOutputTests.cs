using System.Text.Json;
using System.Text.Json.Nodes;

namespace MmServe.FunctionalTests.StructuredOutputs;

/// <summary>Swagger documents response_format and tools, and its examples for them work as they are.</summary>
public sealed class SwaggerStructuredOutputTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task SwaggerDescribesTheFields_AndItsExamplesAnswerAsDocumented()
    {
        using var document = await server.Client.GetAsync("swagger/v1/swagger.json");
        var root = await Chat.ReadJsonAsync(document);
        var schemas = root.GetProperty("components").GetProperty("schemas");
        var request = schemas.GetProperty("ChatCompletionRequest").GetProperty("properties");
        foreach (var field in new[] { "response_format", "tools", "tool_choice", "parallel_tool_calls" })
        {
            Assert.True(request.TryGetProperty(field, out _), $"ChatCompletionRequest has no {field}");
        }

        Assert.True(schemas.GetProperty("AssistantMessage").GetProperty("properties").TryGetProperty("tool_calls", out _));

        var examples = root.GetProperty("paths").GetProperty("/v1/chat/completions").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("examples");

        var schemaExample = JsonNode.Parse(examples.GetProperty("json_schema").GetProperty("value").GetRawText())!;
        using var schemaAnswer = await Chat.PostAsync(server.Client, schemaExample);
        var schemaChoice = (await Chat.ReadJsonAsync(schemaAnswer)).GetProperty("choices")[0];
        SchemaValidation.AssertValid(
            schemaExample["response_format"]!["json_schema"]!["schema"]!.ToJsonString(), schemaChoice.GetProperty("message").GetProperty("content").GetString()!);

        using var toolAnswer = await Chat.PostAsync(server.Client, JsonNode.Parse(examples.GetProperty("tools").GetProperty("value").GetRawText())!);
        var toolChoice = (await Chat.ReadJsonAsync(toolAnswer)).GetProperty("choices")[0];
        Assert.Equal("tool_calls", toolChoice.GetProperty("finish_reason").GetString());
        Assert.Equal("count_shapes", toolChoice.GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("name").GetString());
    }
}
