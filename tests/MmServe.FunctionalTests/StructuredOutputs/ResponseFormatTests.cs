using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.StructuredOutputs;

/// <summary>response_format on /v1/chat/completions: json_object and json_schema answers, and the 400s for formats that cannot be enforced.</summary>
public sealed class ResponseFormatTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static JsonObject Request(JsonNode? responseFormat, int maxTokens = 120)
    {
        var request = Chat.Request("Answer in JSON.", maxTokens);
        request["temperature"] = 1;
        request["seed"] = 3;
        request["response_format"] = responseFormat;
        return request;
    }

    private static JsonObject SchemaFormat(string schema, string name = "answer") => new()
    {
        ["type"] = "json_schema",
        ["json_schema"] = new JsonObject { ["name"] = name, ["schema"] = JsonNode.Parse(schema) },
    };

    [Fact]
    public async Task JsonObjectFormat_AnswersWithAJsonObject()
    {
        using var response = await Chat.PostAsync(server.Client, Request(new JsonObject { ["type"] = "json_object" }));

        var content = await ContentAsync(response);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(content).RootElement.ValueKind);
    }

    [Fact]
    public async Task JsonSchemaFormat_AnswerValidates_AndTheSameSeedGivesTheSameAnswer()
    {
        using var first = await Chat.PostAsync(server.Client, Request(SchemaFormat(TestSchemas.Shape)));
        using var second = await Chat.PostAsync(server.Client, Request(SchemaFormat(TestSchemas.Shape)));

        var content = await ContentAsync(first);
        SchemaValidation.AssertValid(TestSchemas.Shape, content);
        Assert.Equal(content, await ContentAsync(second));
    }

    [Fact]
    public async Task TextFormat_IsUnconstrained()
    {
        var plain = Chat.Request("Hello", 12);
        var withText = Chat.Request("Hello", 12);
        withText["response_format"] = new JsonObject { ["type"] = "text" };

        using var a = await Chat.PostAsync(server.Client, plain);
        using var b = await Chat.PostAsync(server.Client, withText);

        Assert.Equal(await ContentAsync(a), await ContentAsync(b));
    }

    [Fact]
    public async Task ConstrainedAndPlainRequests_GetTheSameTokensAloneAndInOneBatch()
    {
        var constrained = Request(SchemaFormat(TestSchemas.Person));
        constrained["seed"] = 7;
        constrained["return_token_ids"] = true;
        var plain = Chat.Request("Tell me a story.", 40);
        plain["temperature"] = 1;
        plain["seed"] = 7;
        plain["return_token_ids"] = true;

        var constrainedAlone = await TokenIdsAsync(constrained);
        var plainAlone = await TokenIdsAsync(plain);
        var others = Enumerable.Range(0, 14).Select(i =>
        {
            var other = i % 2 == 0 ? Request(SchemaFormat(TestSchemas.Points), 40 + i * 5) : Chat.Request($"Other {i}", 10 + i * 3);
            other["temperature"] = 1;
            other["seed"] = 100 + i;
            other["return_token_ids"] = true;
            return TokenIdsAsync(other);
        }).ToList();
        var constrainedInBatch = TokenIdsAsync(constrained);
        var plainInBatch = TokenIdsAsync(plain);
        await Task.WhenAll(others);

        Assert.Equal(constrainedAlone, await constrainedInBatch);
        Assert.Equal(plainAlone, await plainInBatch);
        Assert.NotEqual(constrainedAlone, plainAlone);
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^[a-z]+$"}""", "pattern")]
    [InlineData("""{"type":"object","properties":{"n":{"type":"integer","minimum":0}}}""", "minimum")]
    [InlineData("""{"oneOf":[{"type":"string"},{"type":"integer"}]}""", "oneOf")]
    [InlineData("""{"type":"object","properties":{"d":{"type":"string","format":"date"}}}""", "format")]
    public async Task UnsupportedSchemaKeyword_Is400NamingIt(string schema, string keyword)
    {
        using var response = await Chat.PostAsync(server.Client, Request(SchemaFormat(schema)));

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "response_format", "invalid_json_schema");
        Assert.Contains($"'{keyword}'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownFormatType_Is400()
    {
        using var response = await Chat.PostAsync(server.Client, Request(new JsonObject { ["type"] = "xml" }));

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "response_format.type", "invalid_value");
    }

    [Fact]
    public async Task JsonSchemaWithoutName_Is400()
    {
        var format = new JsonObject { ["type"] = "json_schema", ["json_schema"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } } };

        using var response = await Chat.PostAsync(server.Client, Request(format));

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "response_format.json_schema.name", "missing_required_parameter");
    }

    [Fact]
    public async Task SchemaOfTheWrongJsonType_Is400()
    {
        var format = new JsonObject { ["type"] = "json_schema", ["json_schema"] = new JsonObject { ["name"] = "x", ["schema"] = 5 } };

        using var response = await Chat.PostAsync(server.Client, Request(format));

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "response_format", "invalid_json_schema");
    }

    private async Task<int[]> TokenIdsAsync(JsonObject request)
    {
        using var response = await Chat.PostAsync(server.Client, JsonNode.Parse(request.ToJsonString())!);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("choices")[0].GetProperty("token_ids").EnumerateArray().Select(t => t.GetInt32())];
    }

    private static async Task<string> ContentAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }
}
