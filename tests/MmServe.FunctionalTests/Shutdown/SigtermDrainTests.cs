using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Shutdown;

/// <summary>
/// SIGTERM to the real server process, as Kubernetes sends it: readiness turns 503 at once, new requests on new
/// connections are still served through Shutdown:DrainDelay, then the listener closes, requests in flight get
/// Engine:ShutdownTimeout and end properly (finished, finish_reason "abort" or an error event, never a cut
/// connection), and the process exits 0 within DrainDelay + Engine:ShutdownTimeout + 1 s.
/// </summary>
public sealed class SigtermDrainTests
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task DrainDelay_ReadinessIs503AtOnce_NewRequestsOnNewConnectionsSucceed_ThenTheListenerCloses()
    {
        var drainDelay = TimeSpan.FromSeconds(2);
        var timeout = TimeSpan.FromSeconds(5);
        var (server, rest) = await StartAsync(drainDelay, timeout);
        using var _ = server;

        var clock = Stopwatch.StartNew();
        server.Terminate();

        // Readiness: 503 at once. The signal reaches the process asynchronously (on a loaded machine the first probe
        // can win that race), so "at once" is: within 500 ms, a quarter of the delay, while requests are still served.
        using (var probe = NewConnectionClient(rest))
        {
            var ready = await probe.GetAsync("health/ready");
            while (ready.StatusCode == HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromMilliseconds(500))
            {
                await Task.Delay(20);
                ready = await probe.GetAsync("health/ready");
            }

            Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, $"/health/ready was still {(int)ready.StatusCode} {clock.Elapsed.TotalMilliseconds:F0} ms after SIGTERM");
        }

        double notReadyAt = clock.Elapsed.TotalSeconds;

        // Through the delay, each request on a connection of its own (what a load balancer that has not noticed yet sends).
        var served = new List<double>();
        while (clock.Elapsed < drainDelay - TimeSpan.FromMilliseconds(500))
        {
            using var client = NewConnectionClient(rest);
            using var response = await Chat.PostAsync(client, Chat.Request("Name a shape.", maxTokens: 4));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{clock.Elapsed.TotalSeconds:F2} s after SIGTERM: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var reason = (await Chat.ReadJsonAsync(response)).GetProperty("choices")[0].GetProperty("finish_reason").GetString();
            Assert.Contains(reason, new[] { "stop", "length" });
            served.Add(clock.Elapsed.TotalSeconds);

            var stream = await StreamEnding.ReadAsync(client, StreamEnding.LongStreamRequest(maxTokens: 8));
            Assert.True(stream.IsProper && stream.FinishReason == "length", $"a stream during the delay ended {stream}");
        }

        Assert.True(served.Count >= 2, $"only {served.Count} requests were served during the delay");

        // After the delay: the process exits (nothing is in flight), and nothing listens any more.
        using var exit = new CancellationTokenSource(drainDelay + timeout + TimeSpan.FromSeconds(1) - clock.Elapsed);
        await server.WaitForExitAsync(exit.Token);
        double exitedAt = clock.Elapsed.TotalSeconds;
        Assert.Equal(0, server.ExitCode);
        Assert.True(exitedAt >= drainDelay.TotalSeconds, $"exited {exitedAt:F2} s after SIGTERM, before the drain delay ended");
        await Assert.ThrowsAsync<HttpRequestException>(() => NewConnectionClient(rest).GetAsync("health/live"));
        Assert.True(notReadyAt < 1, $"the first readiness answer came {notReadyAt:F2} s after SIGTERM");
    }

    [Fact]
    public async Task StreamsInFlight_FinishWithinTheTimeout_AndThenTheProcessExits()
    {
        var timeout = TimeSpan.FromSeconds(30);
        var (server, rest) = await StartAsync(TimeSpan.Zero, timeout);
        using var _ = server;
        using var client = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromSeconds(60) };

        var started = Enumerable.Range(0, 8).Select(_ => new TaskCompletionSource()).ToArray();
        var streams = started.Select(s => StreamEnding.ReadAsync(client, StreamEnding.LongStreamRequest(maxTokens: 64), s)).ToArray();
        await Task.WhenAll(started.Select(s => s.Task)).WaitAsync(TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        server.Terminate();

        var endings = await Task.WhenAll(streams).WaitAsync(timeout);
        Assert.All(endings, e => Assert.True(e.IsProper && e.FinishReason == "length" && e.ContentChunks > 0, $"ended {e}"));
        using var exit = new CancellationTokenSource(timeout + TimeSpan.FromSeconds(1));
        await server.WaitForExitAsync(exit.Token);
        Assert.Equal(0, server.ExitCode);
        Assert.True(clock.Elapsed < timeout, $"exited {clock.Elapsed.TotalSeconds:F2} s after SIGTERM; the streams had finished long before the timeout");
    }

    [Fact]
    public async Task ShortTimeout_Bounds16StreamsInFlight_EachEndsProperly_AndTheProcessExitsWithinTimeoutPlusOneSecond()
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        var (server, rest) = await StartAsync(TimeSpan.Zero, timeout);
        using var _ = server;
        using var client = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromSeconds(60) };

        var started = Enumerable.Range(0, 16).Select(_ => new TaskCompletionSource()).ToArray();
        var streams = started.Select(s => StreamEnding.ReadAsync(client, StreamEnding.LongStreamRequest(maxTokens: 240), s)).ToArray();
        await Task.WhenAll(started.Select(s => s.Task)).WaitAsync(TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        server.Terminate();

        using var exit = new CancellationTokenSource(timeout + TimeSpan.FromSeconds(1));
        await server.WaitForExitAsync(exit.Token);
        double exitedAt = clock.Elapsed.TotalSeconds;
        var endings = await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, server.ExitCode);
        Assert.All(endings, e => Assert.True(e.IsProper, $"a stream was cut: {e}"));
        Assert.All(endings, e => Assert.Contains(e.FinishReason ?? e.ErrorCode, new[] { "length", "abort" }));
        Assert.True(exitedAt <= timeout.TotalSeconds + 1, $"exited {exitedAt:F2} s after SIGTERM");
    }

    private static async Task<(WorkerProcess Server, Uri BaseUrl)> StartAsync(TimeSpan drainDelay, TimeSpan timeout)
    {
        int port = WorkerProcess.FreePort();
        var rest = new Uri($"http://127.0.0.1:{port}/");
        var server = WorkerProcess.Start(
        [
            $"--urls={rest}",
            "--Grpc:Host=127.0.0.1",
            "--Grpc:Port=0",
            $"--Shutdown:DrainDelay={drainDelay:c}",
            $"--Engine:ShutdownTimeout={timeout:c}",
            "--Workers:0:IntraOpThreads=1",
        ]);
        try
        {
            await server.WaitUntilReadyAsync(rest, ReadyTimeout);
            return (server, rest);
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A client whose requests each open a new TCP connection, as a load balancer's new clients do.</summary>
    private static HttpClient NewConnectionClient(Uri rest) => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero })
    {
        BaseAddress = rest,
        Timeout = TimeSpan.FromSeconds(30),
    };
}
