using System.Net;
using System.Net.Sockets;
using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

public sealed class FetcherRetryTests
{
    private static readonly byte[] Body = "image bytes"u8.ToArray();

    [Theory]
    [InlineData(503)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(504)]
    [InlineData(408)]
    [InlineData(429)]
    public async Task A_transient_status_is_retried_until_success(int status)
    {
        await using var server = LocalHttpServer.Start(Responses.Sequence(Responses.Status(status), Responses.Ok(Body)));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url(), 1024, CancellationToken.None);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(Body, result.Value.Content.ToArray());
        Assert.Equal(2, server.RequestCount);
        Assert.Equal(2, server.ConnectionCount);
    }

    [Fact]
    public async Task Retries_are_bounded_and_the_last_status_is_reported()
    {
        await using var server = LocalHttpServer.Start(Responses.Status(503));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { MaxRetries = 2 });

        var result = await fetcher.FetchAsync(server.Url(), 1024, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.FailedCode, result.Error.Code);
        Assert.Contains("503", result.Error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("response body", result.Error.Message, StringComparison.Ordinal); // the body is never echoed
        Assert.Equal(3, server.RequestCount);
    }

    [Fact]
    public async Task Zero_max_retries_makes_a_single_attempt()
    {
        await using var server = LocalHttpServer.Start(Responses.Sequence(Responses.Status(503), Responses.Ok(Body)));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { MaxRetries = 0 });

        var result = await fetcher.FetchAsync(server.Url(), 1024, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Contains("503", result.Error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.RequestCount);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(403)]
    [InlineData(400)]
    [InlineData(501)]
    public async Task A_permanent_status_is_not_retried(int status)
    {
        await using var server = LocalHttpServer.Start(Responses.Sequence(Responses.Status(status), Responses.Ok(Body)));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url(), 1024, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.FailedCode, result.Error.Code);
        Assert.Contains(status.ToString(), result.Error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.RequestCount);
    }

    [Fact]
    public async Task A_policy_refusal_at_connect_time_is_not_retried()
    {
        var dns = FakeDns.Of(("media.example.com", ["192.168.1.10"]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("media.example.com") with { MaxRetries = 3 }, dns);

        var result = await fetcher.FetchAsync(new Uri("http://media.example.com/a.png"), 1024, CancellationToken.None);

        Assert.Equal(RemoteMediaErrors.ForbiddenCode, result.Error?.Code);
        Assert.Equal(1, dns.Lookups);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_and_reported_without_internal_details()
    {
        var closedPort = FreePort();
        var dns = FakeDns.Of(("media.example.com", ["127.0.0.1"]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("media.example.com") with { MaxRetries = 2 }, dns);

        var result = await fetcher.FetchAsync(new Uri($"http://media.example.com:{closedPort}/a.png"), 1024, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.FailedCode, result.Error.Code);
        Assert.Equal("The remote server could not be reached.", result.Error.Message);
        Assert.Equal(3, dns.Lookups); // one lookup per connection attempt
    }

    [Fact]
    public async Task An_unknown_host_is_not_retried()
    {
        var dns = FakeDns.Of();
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("nowhere.example.com"), dns);

        var result = await fetcher.FetchAsync(new Uri("http://nowhere.example.com/a.png"), 1024, CancellationToken.None);

        Assert.Equal(RemoteMediaErrors.FailedCode, result.Error?.Code);
        Assert.Contains("resolved", result.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(1, dns.Lookups);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
