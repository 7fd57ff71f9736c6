using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MmServe.FunctionalTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace MmServe.FunctionalTests.RateLimits;

/// <summary>
/// Per-key limits over REST: 3 requests per minute and 10,000 tokens by default; the key "tpm" has its own limits
/// (no request limit, 200 tokens). Each test uses its own key, so the buckets do not meet.
/// </summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private const string RpmKey = "sk-rpm-0123456789abcdef00";
    private const string TpmKey = "sk-tpm-0123456789abcdef00";

    private readonly TestApiKeys _keys = new();
    private readonly MmServeFactory _factory;

    public RateLimitTests() => _factory = new MmServeFactory(
        _keys.Settings(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:1"] = $"rpm {RpmKey}",
            ["Auth:ApiKeys:2"] = $"tpm {TpmKey}",
            ["RateLimits:RequestsPerMinute"] = "3",
            ["RateLimits:TokensPerMinute"] = "10000",
            ["RateLimits:Keys:tpm:RequestsPerMinute"] = "0",
            ["RateLimits:Keys:tpm:TokensPerMinute"] = "200",
        }),
        CountingEngine.Register);

    private CountingEngine Engine => _factory.Services.GetRequiredService<CountingEngine>();

    public Task InitializeAsync() => _factory.StartAndWaitReadyAsync();

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        _keys.Dispose();
    }

    [Fact]
    public async Task SdkRequestsOverTheLimit_Are429WithRetryAfter_AndEveryAnswerCountsDown()
    {
        var sdk = new ChatClient(Chat.Model, new ApiKeyCredential(RpmKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(_factory.BaseAddress, "v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 4 };
        for (int remaining = 2; remaining >= 0; remaining--)
        {
            var answer = await sdk.CompleteChatAsync([new UserChatMessage("Hello!")], options);
            var headers = answer.GetRawResponse().Headers;
            Assert.Equal("3", Header(headers, "x-ratelimit-limit-requests"));
            Assert.Equal(remaining.ToString(CultureInfo.InvariantCulture), Header(headers, "x-ratelimit-remaining-requests"));
            Assert.Equal($"{(3 - remaining) * 20}s".Replace("60s", "1m0s", StringComparison.Ordinal), Header(headers, "x-ratelimit-reset-requests"));
            Assert.Equal("10000", Header(headers, "x-ratelimit-limit-tokens"));
        }

        int before = Engine.Submitted;
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => sdk.CompleteChatAsync([new UserChatMessage("Hello!")], options));

        Assert.Equal(429, refused.Status);
        Assert.Equal(before, Engine.Submitted);
        var raw = refused.GetRawResponse()!;
        Assert.InRange(int.Parse(Header(raw.Headers, "Retry-After")!, CultureInfo.InvariantCulture), 1, 20);
        Assert.Equal("0", Header(raw.Headers, "x-ratelimit-remaining-requests"));
        using var body = JsonDocument.Parse(raw.Content.ToString());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("requests per minute (RPM): Limit 3", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Another key has its own bucket.
        using var alice = Client(TestApiKeys.Alice);
        using var other = await Chat.PostAsync(alice, Chat.Request("Hello!", 2));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task Tokens_AreReservedAtAdmission_CorrectedToTheRealUsage_AndRefusedWithRetryAfter()
    {
        using var client = Client(TpmKey);
        int before = Engine.Submitted;

        // Streamed: the headers leave while the request runs, with prompt + max_tokens held.
        var streamed = Chat.Request("Count from one to five.", 150);
        streamed["stream"] = true;
        streamed["stream_options"] = new System.Text.Json.Nodes.JsonObject { ["include_usage"] = true };
        using var stream = await Chat.PostStreamingAsync(client, streamed);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("200", Header(stream.Headers, "x-ratelimit-limit-tokens"));
        Assert.InRange(RemainingTokens(stream), 0, 200 - 150);
        Assert.Null(Header(stream.Headers, "x-ratelimit-limit-requests")); // this key has no request limit
        var events = await Chat.ReadEventsAsync(stream);
        using var last = JsonDocument.Parse(events[^2]);
        var usage = last.RootElement.GetProperty("usage");
        int prompt = usage.GetProperty("prompt_tokens").GetInt32();
        int used = usage.GetProperty("total_tokens").GetInt32();

        // Once finished, only the real usage is charged: without the correction this request would not even fit.
        using var second = await Chat.PostAsync(client, Chat.Request("Count from one to five.", 20));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        int usedSecond = (await Chat.ReadJsonAsync(second)).GetProperty("usage").GetProperty("total_tokens").GetInt32();
        Assert.InRange(RemainingTokens(second), 200 - used - usedSecond - 1, 200);

        // More than a minute's allowance can never be granted: 429 without Retry-After.
        using var tooLarge = await Chat.PostAsync(client, Chat.Request("Count from one to five.", 256 - prompt));
        var error = await ErrorAssert.IsOpenAiErrorAsync(tooLarge, HttpStatusCode.TooManyRequests, code: "rate_limit_exceeded");
        Assert.Equal("tokens", error.GetProperty("type").GetString());
        Assert.StartsWith("Request too large for tokens per minute (TPM): Limit 200", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Null(tooLarge.Headers.RetryAfter);

        // A full minute's allowance while part of it is used: 429 with the wait.
        using var exhausted = await Chat.PostAsync(client, Chat.Request("Count from one to five.", 200 - prompt));
        error = await ErrorAssert.IsOpenAiErrorAsync(exhausted, HttpStatusCode.TooManyRequests, code: "rate_limit_exceeded");
        Assert.Equal("tokens", error.GetProperty("type").GetString());
        Assert.Contains("Please try again in", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.InRange(exhausted.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);

        Assert.Equal(before + 2, Engine.Submitted);
    }

    private HttpClient Client(string key)
    {
        var client = _factory.CreateHttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static int RemainingTokens(HttpResponseMessage response) =>
        int.Parse(Header(response.Headers, "x-ratelimit-remaining-tokens")!, CultureInfo.InvariantCulture);

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.Single() : null;

    private static string? Header(PipelineResponseHeaders headers, string name) =>
        headers.TryGetValue(name, out var value) ? value : null;
}
