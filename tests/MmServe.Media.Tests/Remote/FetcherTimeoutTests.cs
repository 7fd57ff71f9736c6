using System.Diagnostics;
using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

public sealed class FetcherTimeoutTests
{
    [Fact]
    public async Task A_server_that_never_answers_times_out_after_the_configured_time()
    {
        await using var server = LocalHttpServer.Start(Responses.Hang());
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { TimeoutSeconds = 1 });
        var stopwatch = Stopwatch.StartNew();

        var result = await fetcher.FetchAsync(server.Url(), 1024, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(RemoteMediaErrors.TimeoutCode, result.Error.Code);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.Equal(1, server.RequestCount); // a timeout is not retried
    }

    [Fact]
    public async Task The_timeout_covers_the_body_download()
    {
        // Headers arrive at once; the announced body never does.
        await using var server = LocalHttpServer.Start(Responses.DeclaredLengthThenHang(100));
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { TimeoutSeconds = 1 });
        var stopwatch = Stopwatch.StartNew();

        var result = await fetcher.FetchAsync(server.Url(), 1024, CancellationToken.None);

        Assert.Equal(RemoteMediaErrors.TimeoutCode, result.Error?.Code);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_thrown_not_reported_as_a_timeout()
    {
        await using var server = LocalHttpServer.Start(Responses.Hang());
        using var fetcher = TestOptions.Fetcher(TestOptions.ForLocalListener() with { TimeoutSeconds = 30 });
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetcher.FetchAsync(server.Url(), 1024, caller.Token));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }
}
