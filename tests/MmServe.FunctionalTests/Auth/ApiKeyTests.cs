using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using MmServe.FunctionalTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace MmServe.FunctionalTests.Auth;

/// <summary>
/// With keys on, the OpenAI SDK works with a key (Bearer) — from configuration or from the key file — and a wrong or
/// missing key is a 401 with OpenAI's error body and WWW-Authenticate on every endpoint, streaming or not, that
/// never reaches the engine. Probes, metrics, /load and Swagger UI stay open.
/// </summary>
public sealed class ApiKeyTests(ApiKeyServerFixture server) : IClassFixture<ApiKeyServerFixture>
{
    private ChatClient Sdk(string key) => new(Chat.Model, new ApiKeyCredential(key), new OpenAIClientOptions
    {
        Endpoint = new Uri(server.Factory.BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });

    [Fact]
    public async Task SdkChat_WithAKeyFromConfiguration_Answers()
    {
        ChatCompletion completion = await Sdk(TestApiKeys.Alice).CompleteChatAsync(
            [new UserChatMessage("Count from one to five.")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 20 });

        Assert.Equal("one two three four five", completion.Content[0].Text);
    }

    [Fact]
    public async Task SdkStreamingChat_WithAKeyFromTheKeyFile_Answers()
    {
        var text = new StringBuilder();
        await foreach (var update in Sdk(TestApiKeys.Bob).CompleteChatStreamingAsync(
            [new UserChatMessage("Count from one to five.")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 20 }))
        {
            text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
        }

        Assert.Equal("one two three four five", text.ToString());
    }

    [Fact]
    public async Task SdkChat_WithAWrongKey_Is401InvalidApiKey_AndNeverReachesTheEngine()
    {
        int before = server.Engine.Submitted;

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Sdk(TestApiKeys.Wrong).CompleteChatAsync([new UserChatMessage("Hello!")]));
        await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in Sdk(TestApiKeys.Wrong).CompleteChatStreamingAsync([new UserChatMessage("Hello!")]))
            {
            }
        });

        Assert.Equal(401, error.Status);
        Assert.Contains("invalid_api_key", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, server.Engine.Submitted);
    }

    public static TheoryData<string, string, string> Refused => new()
    {
        { "POST", "v1/chat/completions", """{"model":"mmserve-tiny","messages":[{"role":"user","content":"Hello!"}]}""" },
        { "POST", "v1/chat/completions", """{"model":"mmserve-tiny","stream":true,"messages":[{"role":"user","content":"Hello!"}]}""" },
        { "POST", "v1/images/generations", """{"prompt":"a red circle"}""" },
        { "POST", "v1/audio/speech", """{"model":"mmserve-tiny","input":"two high beeps","voice":"default"}""" },
        { "POST", "v1/audio/transcriptions", "" },
        { "GET", "v1/models", "" },
        { "GET", "v1/models/mmserve-tiny", "" },
        { "GET", "v1/no-such-route", "" }, // 401 before 404: without a key the API's map stays hidden
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task NoKey_Is401MissingApiKey(string method, string path, string body)
    {
        using var client = server.Client(null);
        using var response = await SendAsync(client, method, path, body);

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.Unauthorized, code: "missing_api_key");
        Assert.Equal("Bearer realm=\"mmserve\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task WrongKey_Is401InvalidApiKey_AndNeverReachesTheEngine(string method, string path, string body)
    {
        int before = server.Engine.Submitted;
        using var client = server.Client(TestApiKeys.Wrong);
        using var response = await SendAsync(client, method, path, body);

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.Unauthorized, code: "invalid_api_key");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.DoesNotContain(TestApiKeys.Wrong, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("Bearer realm=\"mmserve\", error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(before, server.Engine.Submitted);
    }

    [Theory]
    [InlineData("x-api-key", TestApiKeys.Alice, HttpStatusCode.OK)]
    [InlineData("x-api-key", TestApiKeys.Wrong, HttpStatusCode.Unauthorized)]
    [InlineData("Authorization", "bearer " + TestApiKeys.Bob, HttpStatusCode.OK)]
    [InlineData("Authorization", "Basic " + TestApiKeys.Alice, HttpStatusCode.Unauthorized)]
    [InlineData("Authorization", "Bearer", HttpStatusCode.Unauthorized)]
    public async Task KeyHeaders_AreReadAsDocumented(string header, string value, HttpStatusCode expected)
    {
        using var client = server.Client(null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task RightKey_ReachesTheEngine()
    {
        int before = server.Engine.Submitted;
        using var client = server.Client(TestApiKeys.Alice);
        using var response = await Chat.PostAsync(client, Chat.Request("Hello!", 2));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before + 1, server.Engine.Submitted);
    }

    [Theory]
    [InlineData("health/live")]
    [InlineData("health/ready")]
    [InlineData("metrics")]
    [InlineData("load")]
    [InlineData("swagger/index.html")]
    [InlineData("swagger/v1/swagger.json")]
    public async Task InfrastructurePaths_StayOpen(string path)
    {
        using var client = server.Client(TestApiKeys.Wrong); // even a stale key does not break a probe
        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SwaggerDocument_DeclaresTheBearerSchemeOnEveryOperation()
    {
        using var client = server.Client(null);
        using var response = await client.GetAsync("swagger/v1/swagger.json");
        var document = await Chat.ReadJsonAsync(response);

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("apiKey");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        var operations = document.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject()).ToList();
        Assert.NotEmpty(operations);
        Assert.All(operations, operation =>
        {
            var security = Assert.Single(operation.Value.GetProperty("security").EnumerateArray());
            Assert.True(security.TryGetProperty("apiKey", out _), operation.Name);
            Assert.True(operation.Value.GetProperty("responses").TryGetProperty("401", out _), operation.Name);
        });
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path, string body)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (path.EndsWith("transcriptions", StringComparison.Ordinal))
        {
            request.Content = new MultipartFormDataContent { { new StringContent(Chat.Model), "model" }, { new ByteArrayContent(new byte[64]), "file", "a.wav" } };
        }
        else if (method == "POST")
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return client.SendAsync(request);
    }
}
