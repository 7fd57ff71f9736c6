using System.Net;
using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

public sealed class FetcherRedirectTests
{
    private static readonly byte[] Body = "image bytes"u8.ToArray();

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Follows_a_relative_redirect_to_an_allowed_path(int status)
    {
        await using var server = LocalHttpServer.Start(Responses.ByPath(new Dictionary<string, Func<ReceivedRequest, Stream, CancellationToken, Task>>
        {
            ["/start"] = Responses.Redirect("/media/final.png", status),
            ["/media/final.png"] = Responses.Ok(Body),
        }));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url("/start"), 1024, CancellationToken.None);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(Body, result.Value.Content.ToArray());
        Assert.Equal(server.Url("/media/final.png"), result.Value.FinalUrl);
        Assert.Equal(["/start", "/media/final.png"], server.Requests.Select(r => r.Target));
    }

    [Fact]
    public async Task A_redirect_to_a_blocked_ip_literal_is_refused_without_connecting_to_it()
    {
        // Both hosts are allowlisted, but only 127.0.0.1 is an allowed network: 127.0.0.2 stays blocked.
        await using var blockedTarget = LocalHttpServer.Start(Responses.Ok(Body), IPAddress.Parse("127.0.0.2"));
        await using var server = LocalHttpServer.Start(Responses.Redirect(blockedTarget.Url("/secret").ToString()));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("127.0.0.1", "127.0.0.2"));

        var result = await fetcher.FetchAsync(server.Url("/start"), 1024, CancellationToken.None);

        AssertRedirectForbidden(result, "reserved address");
        Assert.Equal(1, server.RequestCount);
        Assert.Equal(0, blockedTarget.ConnectionCount);
    }

    [Fact]
    public async Task A_redirect_to_a_host_name_resolving_to_a_blocked_address_is_refused_without_connecting()
    {
        await using var blockedTarget = LocalHttpServer.Start(Responses.Ok(Body), IPAddress.Parse("127.0.0.2"));
        await using var server = LocalHttpServer.Start(Responses.Redirect($"http://internal.example.com:{blockedTarget.Port}/secret"));
        var dns = FakeDns.Of(("internal.example.com", ["127.0.0.2"]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("127.0.0.1", "*.example.com"), dns);

        var result = await fetcher.FetchAsync(server.Url("/start"), 1024, CancellationToken.None);

        AssertRedirectForbidden(result, "reserved address");
        Assert.Equal(1, dns.Lookups);
        Assert.Equal(0, blockedTarget.ConnectionCount);
    }

    [Fact]
    public async Task A_redirect_to_a_domain_outside_the_allowlist_is_refused()
    {
        await using var server = LocalHttpServer.Start(Responses.Redirect("http://elsewhere.example.net/a.png"));
        var dns = FakeDns.Of(("elsewhere.example.net", ["127.0.0.1"]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener(), dns);

        var result = await fetcher.FetchAsync(server.Url("/start"), 1024, CancellationToken.None);

        AssertRedirectForbidden(result, "allowed domains");
        Assert.Equal(0, dns.Lookups);
    }

    [Fact]
    public async Task A_redirect_from_https_policy_to_a_forbidden_scheme_is_refused()
    {
        await using var server = LocalHttpServer.Start(Responses.Redirect("file:///etc/passwd"));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url("/start"), 1024, CancellationToken.None);

        AssertRedirectForbidden(result, "only http and https");
    }

    [Fact]
    public async Task More_redirects_than_allowed_fail()
    {
        var hops = 0;
        await using var server = LocalHttpServer.Start((request, stream, ct) =>
            Responses.Redirect($"/hop{Interlocked.Increment(ref hops)}")(request, stream, ct));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { MaxRedirects = 2 });

        var result = await fetcher.FetchAsync(server.Url("/start"), 1024, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.TooManyRedirectsCode, result.Error.Code);
        Assert.Equal(["/start", "/hop1", "/hop2"], server.Requests.Select(r => r.Target));
    }

    [Fact]
    public async Task Zero_max_redirects_refuses_the_first_redirect()
    {
        await using var server = LocalHttpServer.Start(Responses.ByPath(new Dictionary<string, Func<ReceivedRequest, Stream, CancellationToken, Task>>
        {
            ["/start"] = Responses.Redirect("/final"),
            ["/final"] = Responses.Ok(Body),
        }));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { MaxRedirects = 0 });

        var result = await fetcher.FetchAsync(server.Url("/start"), 1024, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.TooManyRedirectsCode, result.Error.Code);
        Assert.Equal(1, server.RequestCount);
    }

    [Fact]
    public async Task A_redirect_without_location_fails()
    {
        await using var server = LocalHttpServer.Start(Responses.Status(302));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url("/start"), 1024, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.FailedCode, result.Error.Code);
        Assert.Contains("302", result.Error.Message, StringComparison.Ordinal);
    }

    private static void AssertRedirectForbidden(MediaResult<FetchedMedia> result, string reason)
    {
        Assert.False(result.IsSuccess, result.ToString());
        Assert.Equal(RemoteMediaErrors.ForbiddenCode, result.Error.Code);
        Assert.Contains("redirected", result.Error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, result.Error.Message, StringComparison.Ordinal);
    }
}
