using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

/// <summary>URLs the fetcher must refuse; the local listener's counters prove that no connection was made.</summary>
public sealed class FetcherRefusalTests : IAsyncLifetime
{
    private const long MaxBytes = 1024 * 1024;
    private LocalHttpServer server = null!;

    public Task InitializeAsync()
    {
        server = LocalHttpServer.Start(Responses.Ok("not for you"u8.ToArray()));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    // Each URL reaches (or would reach) the local listener's port on this host; the allowlist names the host and
    // http is allowed, so only the address check can stop them. No AllowedNetworks here: loopback stays blocked.
    [Theory]
    [InlineData("http://127.0.0.1:{port}/a.png", "127.0.0.1")]
    [InlineData("http://169.254.169.254:{port}/latest/meta-data/", "169.254.169.254")]
    [InlineData("http://[::ffff:127.0.0.1]:{port}/a.png", "::ffff:127.0.0.1")]
    [InlineData("http://2130706433:{port}/a.png", "127.0.0.1")]
    [InlineData("http://0x7f.1:{port}/a.png", "127.0.0.1")]
    [InlineData("http://017700000001:{port}/a.png", "127.0.0.1")]
    [InlineData("http://0.0.0.0:{port}/a.png", "0.0.0.0")]
    [InlineData("http://[::]:{port}/a.png", "::")]
    [InlineData("http://[::1]:{port}/a.png", "::1")]
    [InlineData("http://10.0.0.1:{port}/a.png", "10.0.0.1")]
    public async Task Blocked_ip_literals_are_refused_without_a_connection(string urlTemplate, string allowedHost)
    {
        using var fetcher = new RemoteMediaFetcher(new RemoteMediaOptions
        {
            Enabled = true,
            AllowHttp = true,
            AllowedDomains = [allowedHost],
            TimeoutSeconds = 5,
        });

        var result = await fetcher.FetchAsync(new Uri(urlTemplate.Replace("{port}", server.Port.ToString())), MaxBytes, CancellationToken.None);

        AssertForbiddenByAddress(result);
        Assert.Equal(0, server.ConnectionCount);
    }

    [Fact]
    public async Task A_host_name_that_resolves_to_loopback_is_refused_without_a_connection()
    {
        // Real DNS: localhost resolves to loopback from the hosts file.
        using var fetcher = new RemoteMediaFetcher(new RemoteMediaOptions
        {
            Enabled = true,
            AllowHttp = true,
            AllowedDomains = ["localhost"],
            TimeoutSeconds = 5,
        });

        var result = await fetcher.FetchAsync(new Uri($"http://localhost:{server.Port}/a.png"), MaxBytes, CancellationToken.None);

        AssertForbiddenByAddress(result);
        Assert.Equal(0, server.ConnectionCount);
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:a9fe:a9fe")]
    [InlineData("fd00::1")]
    public async Task Host_names_resolving_to_blocked_addresses_are_refused_when_connecting(string resolvedAddress)
    {
        var dns = FakeDns.Of(("media.example.com", [resolvedAddress]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("*.example.com") with { AllowedNetworks = [] }, dns);

        var result = await fetcher.FetchAsync(new Uri($"http://media.example.com:{server.Port}/a.png"), MaxBytes, CancellationToken.None);

        AssertForbiddenByAddress(result);
        Assert.DoesNotContain(resolvedAddress, result.Error!.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, dns.Lookups); // a policy refusal is not retried
        Assert.Equal(0, server.ConnectionCount);
    }

    [Fact]
    public async Task A_name_with_one_blocked_answer_among_allowed_ones_is_refused()
    {
        // 127.0.0.1 is exempt, so a fetcher that checked only the address it picked would connect.
        var dns = FakeDns.Of(("media.example.com", ["127.0.0.1", "10.0.0.1"]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("*.example.com"), dns);

        var result = await fetcher.FetchAsync(new Uri($"http://media.example.com:{server.Port}/a.png"), MaxBytes, CancellationToken.None);

        AssertForbiddenByAddress(result);
        Assert.Equal(0, server.ConnectionCount);
    }

    [Fact]
    public async Task Disabled_fetcher_refuses_everything_without_a_connection()
    {
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { Enabled = false });

        var result = await fetcher.FetchAsync(server.Url("/a.png"), MaxBytes, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.DisabledCode, result.Error.Code);
        Assert.Equal(0, server.ConnectionCount);
    }

    [Fact]
    public async Task A_domain_outside_the_allowlist_is_refused_without_a_connection()
    {
        var dns = FakeDns.Of(("media.other.org", ["127.0.0.1"]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("example.com", "*.example.com"), dns);

        var result = await fetcher.FetchAsync(new Uri($"http://media.other.org:{server.Port}/a.png"), MaxBytes, CancellationToken.None);

        AssertForbidden(result, "allowed domains");
        Assert.Equal(0, dns.Lookups);
        Assert.Equal(0, server.ConnectionCount);
    }

    [Fact]
    public async Task Wildcard_entries_allow_subdomains_but_not_look_alike_domains()
    {
        var dns = FakeDns.Of(("sub.example.com", ["127.0.0.1"]), ("example.com.evil.net", ["127.0.0.1"]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("*.example.com"), dns);

        var allowed = await fetcher.FetchAsync(new Uri($"http://sub.example.com:{server.Port}/a.png"), MaxBytes, CancellationToken.None);
        var refused = await fetcher.FetchAsync(new Uri($"http://example.com.evil.net:{server.Port}/a.png"), MaxBytes, CancellationToken.None);

        Assert.True(allowed.IsSuccess, allowed.ToString());
        AssertForbidden(refused, "allowed domains");
        Assert.Equal(1, server.ConnectionCount);
    }

    [Fact]
    public async Task Http_is_refused_when_https_is_required()
    {
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { AllowHttp = false });

        var result = await fetcher.FetchAsync(server.Url("/a.png"), MaxBytes, CancellationToken.None);

        AssertForbidden(result, "only https");
        Assert.Equal(0, server.ConnectionCount);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/a.png")]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://127.0.0.1:70/")]
    public async Task Other_schemes_are_refused_even_when_http_is_allowed(string url)
    {
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(new Uri(url), MaxBytes, CancellationToken.None);

        AssertForbidden(result, "only http and https");
    }

    [Fact]
    public async Task Urls_with_credentials_are_refused_without_a_connection()
    {
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(new Uri($"http://user:secret@127.0.0.1:{server.Port}/a.png"), MaxBytes, CancellationToken.None);

        AssertForbidden(result, "credentials");
        Assert.Equal(0, server.ConnectionCount);
    }

    [Fact]
    public async Task Relative_urls_are_refused()
    {
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(new Uri("/a.png", UriKind.Relative), MaxBytes, CancellationToken.None);

        AssertForbidden(result, "absolute");
    }

    private static void AssertForbiddenByAddress(MediaResult<FetchedMedia> result) => AssertForbidden(result, "reserved address");

    private static void AssertForbidden(MediaResult<FetchedMedia> result, string reason)
    {
        Assert.False(result.IsSuccess, result.ToString());
        Assert.Equal(RemoteMediaErrors.ForbiddenCode, result.Error.Code);
        Assert.Contains(reason, result.Error.Message, StringComparison.Ordinal);
    }
}
