using System.Diagnostics;
using MmServe.Bench.Client;
using MmServe.Bench.Workload;

namespace MmServe.Bench.Running;

/// <summary>
/// Sends a workload on an arrival schedule, with at most maxConcurrency requests in flight (the same scheme as
/// vLLM: a request that has arrived waits for a free slot, and its latency is timed from when it is sent). What
/// "send" means is the caller's: a streamed HTTP request (<see cref="ChatStreamClient"/>), or a request handed to an
/// in-process peer (bench/MmServe.PeerBench).
/// </summary>
internal sealed class LoadRunner(Func<BenchRequest, CancellationToken, Task<RequestResult>> send)
{
    public LoadRunner(ChatStreamClient client)
        : this(client.SendAsync)
    {
    }

    private int _inFlight;
    private int _peakInFlight;

    public async Task<RunResult> RunAsync(
        IReadOnlyList<BenchRequest> requests, int? maxConcurrency, double? requestRate, int seed, CancellationToken ct)
    {
        _inFlight = 0;
        _peakInFlight = 0;
        var arrivals = ArrivalSchedule.Build(requests.Count, requestRate, seed);
        using var slots = maxConcurrency is { } c ? new SemaphoreSlim(c, c) : null;
        var tasks = new Task<RequestResult>[requests.Count];

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < requests.Count; i++)
        {
            // Wait until the absolute arrival time rather than sleeping each gap, so timer lateness does not
            // accumulate and lower the offered rate.
            var wait = arrivals[i] - Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait), ct).ConfigureAwait(false);
            }

            tasks[i] = SendAsync(requests[i], slots, ct);
        }

        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        var duration = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new RunResult(maxConcurrency, requestRate, duration, _peakInFlight, results);
    }

    private async Task<RequestResult> SendAsync(BenchRequest request, SemaphoreSlim? slots, CancellationToken ct)
    {
        if (slots is not null)
        {
            await slots.WaitAsync(ct).ConfigureAwait(false);
        }

        try
        {
            var now = Interlocked.Increment(ref _inFlight);
            UpdatePeak(now);
            return await send(request, ct).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            slots?.Release();
        }
    }

    private void UpdatePeak(int candidate)
    {
        var peak = Volatile.Read(ref _peakInFlight);
        while (candidate > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakInFlight, candidate, peak);
            if (seen == peak)
            {
                return;
            }

            peak = seen;
        }
    }
}
