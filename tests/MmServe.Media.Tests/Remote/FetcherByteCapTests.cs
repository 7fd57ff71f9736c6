using System.Diagnostics;
using System.Runtime.CompilerServices;
using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

public sealed class FetcherByteCapTests
{
    [Fact]
    public async Task A_declared_content_length_over_the_cap_is_refused_before_reading_the_body()
    {
        // The server never sends the announced body: a fetcher that tried to read it would time out instead.
        await using var server = LocalHttpServer.Start(Responses.DeclaredLengthThenHang(1_000_000));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { TimeoutSeconds = 5 });

        var result = await fetcher.FetchAsync(server.Url(), 1000, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.TooLargeCode, result.Error.Code);
        Assert.Contains("1000000", result.Error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.RequestCount); // too large is not retried
    }

    [Fact]
    public async Task A_chunked_body_without_length_is_cut_off_at_the_cap()
    {
        var written = new StrongBox<long>();
        await using var server = LocalHttpServer.Start(Responses.EndlessChunked(written));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());
        var stopwatch = Stopwatch.StartNew();

        // The body never ends, so only the byte cap can end this fetch before the 10 s timeout.
        var result = await fetcher.FetchAsync(server.Url(), 100_000, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.TooLargeCode, result.Error.Code);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(8), $"took {stopwatch.Elapsed}");
        Assert.Equal(1, server.RequestCount);
    }

    [Fact]
    public async Task A_gzip_bomb_is_refused_after_decompressing_no_more_than_the_cap()
    {
        var compressed = Responses.Gzip(new byte[16 * 1024 * 1024]);
        const long maxBytes = 1024 * 1024;
        Assert.True(compressed.Length < maxBytes, "the compressed body must pass a Content-Length check");
        await using var server = LocalHttpServer.Start(Responses.Gzipped(compressed));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url(), maxBytes, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.TooLargeCode, result.Error.Code);
        Assert.Equal(1, server.RequestCount);
    }

    [Fact]
    public async Task A_body_one_byte_over_the_cap_is_refused()
    {
        await using var server = LocalHttpServer.Start(Responses.Ok(new byte[101]));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        var result = await fetcher.FetchAsync(server.Url(), 100, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.TooLargeCode, result.Error.Code);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task A_non_positive_limit_is_a_programming_error(long maxBytes)
    {
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fetcher.FetchAsync(new Uri("http://127.0.0.1/"), maxBytes, CancellationToken.None));
    }
}
