using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

public sealed class FetcherSuccessTests
{
    private static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 1, 2, 3, 4];

    [Fact]
    public async Task Returns_body_content_type_and_url_from_an_allowed_network()
    {
        await using var server = LocalHttpServer.Start(Responses.Ok(Png, "image/png"));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());
        var url = server.Url("/media/cat.png");

        var result = await fetcher.FetchAsync(url, 1024, CancellationToken.None);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(Png, result.Value.Content.ToArray());
        Assert.Equal("image/png", result.Value.ContentType);
        Assert.Equal(url, result.Value.FinalUrl);
        Assert.Equal("/media/cat.png", Assert.Single(server.Requests).Target);
        Assert.Equal(1, server.ConnectionCount);
    }

    [Fact]
    public async Task Resolves_an_allowed_host_name_and_connects_to_the_checked_address()
    {
        await using var server = LocalHttpServer.Start(Responses.Ok(Png));
        var dns = FakeDns.Of(("media.example.com", ["127.0.0.1"]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener("media.example.com"), dns);

        var result = await fetcher.FetchAsync(new Uri($"http://media.example.com:{server.Port}/a.png"), 1024, CancellationToken.None);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(Png, result.Value.Content.ToArray());
        Assert.Equal($"media.example.com:{server.Port}", server.Requests[0].Headers["host"]);
        Assert.Equal(1, dns.Lookups);
    }

    [Fact]
    public async Task A_missing_content_type_is_reported_as_null()
    {
        await using var server = LocalHttpServer.Start(Responses.Ok(Png, contentType: null));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url(), 1024, CancellationToken.None);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Null(result.Value.ContentType);
    }

    [Fact]
    public async Task A_body_of_exactly_the_limit_is_accepted()
    {
        await using var server = LocalHttpServer.Start(Responses.Ok(Png));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url(), Png.Length, CancellationToken.None);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(Png.Length, result.Value.Content.Length);
    }

    [Fact]
    public async Task Gzip_bodies_are_decompressed()
    {
        var plain = Enumerable.Range(0, 5000).Select(i => (byte)(i % 7)).ToArray();
        await using var server = LocalHttpServer.Start(Responses.Gzipped(Responses.Gzip(plain)));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url(), plain.Length, CancellationToken.None);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(plain, result.Value.Content.ToArray());
        Assert.Contains("gzip", server.Requests[0].Headers["accept-encoding"], StringComparison.Ordinal);
    }
}
