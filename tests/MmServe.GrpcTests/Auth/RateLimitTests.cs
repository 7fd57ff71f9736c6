using System.Globalization;
using Grpc.Core;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests.Auth;

/// <summary>
/// Per-key limits over gRPC: a call over the requests-per-minute limit, or one whose tokens do not fit, is
/// RESOURCE_EXHAUSTED with the project's retry pushback; admitted calls carry the x-ratelimit-* headers as metadata.
/// </summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private readonly TestApiKeys _keys = new();
    private readonly GrpcServer _server;

    public RateLimitTests() => _server = new Server(new MmServeFactory(_keys.Settings(new Dictionary<string, string?>
    {
        ["RateLimits:RequestsPerMinute"] = "2",
        ["RateLimits:Keys:bob:RequestsPerMinute"] = "0",
        ["RateLimits:Keys:bob:TokensPerMinute"] = "100",
    })));

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _keys.Dispose();
    }

    private static CallOptions Key(string key) => new(new Metadata { { "authorization", $"Bearer {key}" } });

    [Fact]
    public async Task ThirdCallInAMinute_IsResourceExhaustedWithRetryPushback()
    {
        using var first = _server.Chat.ChatAsync(Requests.Text("Hello!", 2), Key(TestApiKeys.Alice));
        var headers = await first.ResponseHeadersAsync;
        await first.ResponseAsync;
        Assert.Equal("2", headers.GetValue("x-ratelimit-limit-requests"));
        Assert.Equal("1", headers.GetValue("x-ratelimit-remaining-requests"));
        await StreamedChat.ReadAsync(_server.Chat, Requests.Text("Hello!", 2), Key(TestApiKeys.Alice));

        var e = await Assert.ThrowsAsync<RpcException>(() => StreamedChat.ReadAsync(_server.Chat, Requests.Text("Hello!", 2), Key(TestApiKeys.Alice)));

        RpcAssert.AssertStatus(e, StatusCode.ResourceExhausted, "rate_limit_exceeded");
        Assert.InRange(long.Parse(e.Trailers.GetValue("grpc-retry-pushback-ms")!, CultureInfo.InvariantCulture), 1, 30_000);
    }

    [Fact]
    public async Task TokensThatDoNotFit_AreResourceExhausted_WithPushbackOnlyWhenWaitingHelps()
    {
        // Bob: 100 tokens a minute, no request limit. The prompt is 14 tokens.
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => _server.Chat.ChatAsync(Requests.Text("Count from one to five.", 100), Key(TestApiKeys.Bob)).ResponseAsync);
        RpcAssert.AssertStatus(tooLarge, StatusCode.ResourceExhausted, "rate_limit_exceeded");
        Assert.Null(tooLarge.Trailers.GetValue("grpc-retry-pushback-ms"));

        using var admitted = _server.Chat.ChatAsync(Requests.Text("Count from one to five.", 80), Key(TestApiKeys.Bob));
        Assert.Equal("100", (await admitted.ResponseHeadersAsync).GetValue("x-ratelimit-limit-tokens"));
        var usage = (await admitted.ResponseAsync).Usage;

        var exhausted = await Assert.ThrowsAsync<RpcException>(() => StreamedChat.ReadAsync(
            _server.Chat, Requests.Text("Count from one to five.", 100 - usage.PromptTokens), Key(TestApiKeys.Bob)));
        RpcAssert.AssertStatus(exhausted, StatusCode.ResourceExhausted, "rate_limit_exceeded");
        Assert.InRange(long.Parse(exhausted.Trailers.GetValue("grpc-retry-pushback-ms")!, CultureInfo.InvariantCulture), 1, 60_000);
    }

    private sealed class Server(MmServeFactory factory) : GrpcServer(factory);
}
