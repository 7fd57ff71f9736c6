using System.Net;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.RateLimits;

/// <summary>With keys off, the limits count per client address; probes are never limited.</summary>
public sealed class RateLimitByAddressTests : IAsyncLifetime
{
    private readonly MmServeFactory _factory = new(new Dictionary<string, string?> { ["RateLimits:RequestsPerMinute"] = "2" });

    public Task InitializeAsync() => _factory.StartAndWaitReadyAsync();

    public Task DisposeAsync() => _factory.DisposeAsync().AsTask();

    [Fact]
    public async Task ThirdRequestFromOneAddress_Is429_ProbesAreNotCounted()
    {
        using var client = _factory.CreateHttpClient();
        for (int i = 0; i < 5; i++)
        {
            using var probe = await client.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
            Assert.False(probe.Headers.Contains("x-ratelimit-limit-requests"));
        }

        using var first = await client.GetAsync("v1/models");
        using var second = await Chat.PostAsync(client, Chat.Request("Hello!", 2));
        using var third = await client.GetAsync("v1/models");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("0", second.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.False(second.Headers.Contains("x-ratelimit-limit-tokens")); // no token limit set
        await ErrorAssert.IsOpenAiErrorAsync(third, HttpStatusCode.TooManyRequests, code: "rate_limit_exceeded");
        Assert.InRange(third.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 30);
    }
}
