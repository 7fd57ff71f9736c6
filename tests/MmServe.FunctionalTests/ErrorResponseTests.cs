using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// Every refused request gets OpenAI's error shape with the right status, param and code, and none of them makes
/// the server log an error with a stack trace.
/// </summary>
public sealed class ErrorResponseTests(ServerFixture server) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly int _logMark = server.Factory.Logs.Entries.Count;

    public void Dispose() =>
        Assert.Empty(server.Factory.Logs.ErrorsWithExceptions(_logMark));

    [Theory]
    [InlineData("{\"model\": \"mmserve-tiny\", \"messages\": [")]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("{\"model\": \"mmserve-tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": NaN}")]
    public async Task MalformedJson_Is400InvalidJson(string json)
    {
        using var response = await Chat.PostRawAsync(server.Client, json);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, code: "invalid_json");
    }

    [Theory]
    [InlineData("{\"model\": \"mmserve-tiny\", \"messages\": \"hello\"}", "messages")]
    [InlineData("{\"model\": 42, \"messages\": []}", "model")]
    [InlineData("{\"model\": \"mmserve-tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"NaN\"}", "temperature")]
    [InlineData("{\"model\": \"mmserve-tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 1.5}", "max_tokens")]
    [InlineData("{\"model\": \"mmserve-tiny\", \"messages\": [{\"role\": \"user\", \"content\": 7}]}", "messages[0].content")]
    [InlineData("{\"model\": \"mmserve-tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 3}", "stop")]
    [InlineData("[1, 2]", null)]
    public async Task WrongJsonType_Is400NamingTheField(string json, string? param)
    {
        using var response = await Chat.PostRawAsync(server.Client, json);
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, code: "invalid_type");
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task UnknownModel_Is404ModelNotFound()
    {
        var body = Chat.Request("Hello!");
        body["model"] = "gpt-4o";
        using var response = await Chat.PostAsync(server.Client, body);
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.NotFound, "model", "model_not_found");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task MissingMessages_Is400()
    {
        using var response = await Chat.PostRawAsync(server.Client, "{\"model\": \"mmserve-tiny\"}");
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages", "missing_required_parameter");
    }

    [Fact]
    public async Task EmptyMessages_Is400()
    {
        using var response = await Chat.PostRawAsync(server.Client, "{\"model\": \"mmserve-tiny\", \"messages\": []}");
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages", "invalid_value");
    }

    [Fact]
    public async Task InvalidBase64Image_Is400()
    {
        using var response = await Chat.PostAsync(server.Client, Chat.WithImages("What is this?", "data:image/png;base64,!!!not-base64!!!"));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].image_url.url", "invalid_data_url");
    }

    [Fact]
    public async Task NonImageBytes_Is400InvalidImage()
    {
        var url = TestImages.DataUrl(Encoding.UTF8.GetBytes("this is plain text, not a picture"));
        using var response = await Chat.PostAsync(server.Client, Chat.WithImages("What is this?", url));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].image_url.url", "invalid_image");
    }

    [Fact]
    public async Task PngClaiming50000x50000_Is400ImageTooLarge()
    {
        var red = TestImages.DataUrl(TestImages.SolidPng(8, 8, 255, 0, 0));
        var bomb = TestImages.DataUrl(TestImages.LyingHeaderPng(50_000, 50_000));
        using var response = await Chat.PostAsync(server.Client, Chat.WithImages("Compare these.", red, bomb));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[1].image_url.url", "image_too_large");
        Assert.Contains("50000", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MoreImagesThanTheLimit_Is400BeforeAnyImageIsDecoded()
    {
        // The images are not even valid base64: the count must be refused before decoding is attempted.
        var images = Enumerable.Repeat("data:image/png;base64,%%%", MmServeFactory.MaxImages + 1).ToArray();
        using var response = await Chat.PostAsync(server.Client, Chat.WithImages("So many.", images));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages", "too_many_images");
    }

    [Fact]
    public async Task RemoteImageUrl_Is400RemoteMediaDisabled()
    {
        using var response = await Chat.PostAsync(server.Client, Chat.WithImages("What is this?", "https://example.com/cat.png"));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].image_url.url", "remote_media_disabled");
        Assert.Contains("remote media URLs are disabled", error.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DeprecatedFunctionRole_Is400()
    {
        var body = Chat.Request("x");
        body["messages"] = new JsonArray(new JsonObject { ["role"] = "function", ["content"] = "42", ["name"] = "f" });
        using var response = await Chat.PostAsync(server.Client, body);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].role", "unsupported_value");
    }

    [Fact]
    public async Task PromptLongerThanTheContext_Is400ContextLengthExceeded()
    {
        var body = Chat.Request(string.Join(' ', Enumerable.Repeat("garden river", 400)));
        body.Remove("max_tokens");
        using var response = await Chat.PostAsync(server.Client, body);
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages", "context_length_exceeded");
        Assert.Contains("maximum context length is", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromptPlusMaxTokensOverTheContext_Is400ContextLengthExceeded()
    {
        using var response = await Chat.PostAsync(server.Client, Chat.Request("Hello!", maxTokens: 10_000));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages", "context_length_exceeded");
    }

    [Theory]
    [InlineData("max_tokens", "0")]
    [InlineData("max_tokens", "-5")]
    [InlineData("max_completion_tokens", "0")]
    [InlineData("temperature", "2.5")]
    [InlineData("temperature", "-0.1")]
    [InlineData("top_p", "0")]
    [InlineData("top_p", "1.5")]
    [InlineData("top_k", "-3")]
    [InlineData("presence_penalty", "3")]
    [InlineData("frequency_penalty", "-2.5")]
    [InlineData("top_logprobs", "21")]
    [InlineData("n", "2")]
    [InlineData("n", "0")]
    public async Task OutOfRangeParameter_Is400NamingIt(string param, string value)
    {
        var body = Chat.Request("Hello!");
        body.Remove("max_tokens");
        body[param] = JsonNode.Parse(value);
        if (param == "top_logprobs")
        {
            body["logprobs"] = true;
        }

        using var response = await Chat.PostAsync(server.Client, body);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, param);
    }

    [Fact]
    public async Task BodyOverTheLimit_Is413()
    {
        // Content-Length over the limit is refused before the body is read. "Expect: 100-continue" keeps the
        // client from uploading meanwhile, so the refusal cannot race with a connection reset.
        var json = Chat.Request(new string('a', MmServeFactory.MaxBodyBytes + 1024)).ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat.Route)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = true;
        using var response = await server.Client.SendAsync(request);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, code: "request_too_large");
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_Is413()
    {
        var json = Chat.Request(new string('a', MmServeFactory.MaxBodyBytes + 1024)).ToJsonString();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat.Route) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await server.Client.SendAsync(request);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, code: "request_too_large");
    }

    [Fact]
    public async Task UnknownRoute_Is404Json()
    {
        using var response = await server.Client.GetAsync("v1/no-such-endpoint");
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.NotFound, code: "unknown_url");
    }

    [Fact]
    public async Task WrongContentType_Is415Json()
    {
        using var response = await server.Client.PostAsync(Chat.Route, new StringContent(Chat.Request("hi").ToJsonString(), Encoding.UTF8, "text/plain"));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.UnsupportedMediaType, code: "unsupported_media_type");
    }

    [Fact]
    public async Task RefusedRequests_AreLoggedWithoutStackTraces()
    {
        int mark = server.Factory.Logs.Entries.Count;
        using var response = await Chat.PostAsync(server.Client, Chat.WithImages("x", TestImages.DataUrl(TestImages.LyingHeaderPng(50_000, 50_000))));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var entries = server.Factory.Logs.Entries.Skip(mark).Where(e => e.Category.StartsWith("MmServe", StringComparison.Ordinal)).ToList();
        Assert.Contains(entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Information && e.Message.Contains("image_too_large", StringComparison.Ordinal));
        Assert.All(entries, e => Assert.Null(e.Exception));
        Assert.All(entries, e => Assert.True(e.Level < Microsoft.Extensions.Logging.LogLevel.Warning, e.ToString()));
    }
}
