using System.Net;
using MmServe.ScaleOutTests.Infrastructure;
using Xunit.Abstractions;

namespace MmServe.ScaleOutTests;

/// <summary>
/// A worker that dies under load (SIGKILL) or is stopped (SIGTERM) behind the gateway: requests that had not started
/// on it are answered by the other worker, streams that were flowing on it end with an error event (SSE) or
/// UNAVAILABLE (gRPC) within 5 s, nothing hangs; a restarted worker gets traffic again within 10 s of being ready;
/// a SIGTERM'd worker drains with zero failed requests.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class WorkerFailureTests(Cluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task Sigkill_UnderLoad_OnlyItsFlowingStreamsEnd_WithAnErrorWithin5s_AndItsRestartGetsTrafficWithin10s()
    {
        await cluster.EnsureAllUpAsync();
        var victim = cluster.Workers[1];
        var survivor = cluster.Workers[0];
        var load = new MixedLoad(cluster, count: 240, concurrency: 32, maxTokens: 150);
        var running = load.RunAsync();

        // Kill while the load is in full flow: some of the victim's streams have started and not finished.
        await WaitUntilAsync(() => load.Completed >= 48 && FlowingStreams(load, victim) >= 3, TimeSpan.FromSeconds(90), "the load to reach the victim");

        // The client can read far behind the worker (a whole stream fits in the socket buffers), so "flowing" on the
        // client does not mean unfinished on the worker: kill only while the worker itself is still generating several
        // requests, whose streams then cannot complete.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (await cluster.WorkerMetricAsync(victim, "mmserve_num_requests_running") < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the victim to generate 3 requests at once");
        }

        double killedAt = load.Now;
        victim.Process!.Kill();
        double deadAt = load.Now; // killing takes a moment on a busy machine; the worker may stream until then
        await running.WaitAsync(TimeSpan.FromSeconds(120));
        Report(load, killedAt);

        var records = load.Records;
        Assert.All(records, r => Assert.True(r.Outcome is Outcome.Success or Outcome.StreamError, r.ToString()));
        var broken = records.Where(r => r.Outcome == Outcome.StreamError).ToList();
        Assert.NotEmpty(broken);
        Assert.All(broken, r =>
        {
            // It had started on the victim (the client may read the headers a little after the gateway got them).
            Assert.True(r.Streamed && r.Worker == victim.Name && r.HeadersAt < deadAt + 0.5, r.ToString());
            Assert.True(r.EndAt - killedAt < 5, $"error {r.EndAt - killedAt:F2} s after the kill: {r}");
        });

        // Everything that had not started on the victim, including all non-streamed requests, succeeded.
        Assert.All(records.Where(r => r.Worker != victim.Name || !r.Streamed), r => Assert.Equal(Outcome.Success, r.Outcome));
        Assert.Contains(records, r => r.StartAt > killedAt && r.Outcome == Outcome.Success);
        Assert.All(records.Where(r => r.StartAt > deadAt + 1), r => Assert.Equal(survivor.Name, r.Worker));

        // Restarted on the same ports, it is back in routing within 10 s of being ready.
        var readyAt = await cluster.StartWorkerAsync(1);
        while (true)
        {
            using var response = await Chat.PostAsync(cluster.Rest, Chat.Request("Hello!", maxTokens: 2));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            if (response.Headers.GetValues(Cluster.WorkerHeader).Single() == victim.Name)
            {
                output.WriteLine($"the restarted worker got a request {(DateTime.UtcNow - readyAt).TotalSeconds:F2} s after it was ready");
                break;
            }

            Assert.True(DateTime.UtcNow - readyAt < TimeSpan.FromSeconds(10), "the restarted worker got no request within 10 s of being ready");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Sigterm_UnderLoad_TheWorkerDrains_AndNoRequestFails()
    {
        await cluster.EnsureAllUpAsync();
        var drained = cluster.Workers[0];
        var load = new MixedLoad(cluster, count: 160, concurrency: 24, maxTokens: 100);
        var running = load.RunAsync();

        await WaitUntilAsync(() => load.Completed >= 24 && FlowingStreams(load, drained) >= 3, TimeSpan.FromSeconds(90), "the load to reach the worker");
        double terminatedAt = load.Now;
        drained.Process!.Terminate();
        using var exitTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await drained.Process.WaitForExitAsync(exitTimeout.Token);
        double exitedAt = load.Now;
        await running.WaitAsync(TimeSpan.FromSeconds(120));
        Report(load, terminatedAt);
        output.WriteLine($"the worker exited {exitedAt - terminatedAt:F2} s after SIGTERM with code {drained.Process.ExitCode}");

        Assert.Equal(0, drained.Process.ExitCode);
        Assert.All(load.Records, r => Assert.True(r.Outcome == Outcome.Success, r.ToString()));

        // The drain covered real work: requests in flight on the worker when SIGTERM came finished there.
        var inFlight = load.Records.Where(r => r.Worker == drained.Name && r.HeadersAt < terminatedAt && r.EndAt > terminatedAt).ToList();
        Assert.NotEmpty(inFlight);
        Assert.Contains(load.Records, r => r.StartAt > terminatedAt && r.Worker != drained.Name);
    }

    private static int FlowingStreams(MixedLoad load, WorkerNode worker) =>
        load.Records.Count(r => r.Streamed && r.Worker == worker.Name && r.FirstChunkAt is not null && r.EndAt == 0);

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    private void Report(MixedLoad load, double eventAt)
    {
        output.WriteLine($"event at {eventAt:F2} s, load ended at {load.Now:F2} s");
        foreach (var group in load.Records.GroupBy(r => (r.Worker, r.Api, r.Outcome)).OrderBy(g => g.Key.Worker).ThenBy(g => g.Key.Api))
        {
            output.WriteLine($"{group.Key.Worker} {group.Key.Api} {group.Key.Outcome}: {group.Count()}");
        }

        foreach (var record in load.Records.Where(r => r.Outcome != Outcome.Success))
        {
            output.WriteLine(record.ToString());
        }
    }
}
