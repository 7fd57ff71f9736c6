using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Abstractions;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// A batched run is one span of its own that links to the span of every caller whose item it carried, and it
/// reports its item count. The first run is held open so that the next callers queue and leave together.
/// </summary>
public sealed class ComponentBatcherTracingTests : IDisposable
{
    private readonly List<Activity> _stopped = [];
    private readonly ActivityListener _listener;

    public ComponentBatcherTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Tracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (_stopped)
                {
                    _stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task QueuedItems_ShareARunLinkedToEachCaller()
    {
        var chain = new HeldChain();
        var runs = new List<int>();
        await using var batcher = new ComponentBatcher(
            chain, maxBatch: 8, maxWait: TimeSpan.Zero, NullLogger.Instance, maxConcurrentRuns: 1, spanName: "encoder test", runObserved: n => { lock (runs) { runs.Add(n); } });

        var first = RunUnderSpanAsync(batcher, "caller 0");
        await chain.FirstRunStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = RunUnderSpanAsync(batcher, "caller 1");
        var third = RunUnderSpanAsync(batcher, "caller 2");
        chain.Release.SetResult();
        var callers = await Task.WhenAll(first, second, third);

        Activity[] runSpans;
        lock (_stopped)
        {
            runSpans = [.. _stopped.Where(a => a.DisplayName == "encoder test")];
        }

        Assert.Equal(2, runSpans.Length);
        var shared = Assert.Single(runSpans, a => a.Links.Count() == 2);
        Assert.Equal(2, shared.GetTagItem("mmserve.batch.size"));
        Assert.Equal(callers[1..].Select(c => c.SpanId.ToHexString()).Order(), shared.Links.Select(l => l.Context.SpanId.ToHexString()).Order());
        Assert.Equal(default, shared.ParentSpanId);
        Assert.Equal(callers[0].SpanId, Assert.Single(runSpans, a => a.Links.Count() == 1).Links.Single().Context.SpanId);
        Assert.Equal([1, 2], runs);
    }

    /// <summary>Runs one item under a span of its own, as a request's media span; returns that span's context.</summary>
    private static async Task<ActivityContext> RunUnderSpanAsync(ComponentBatcher batcher, string name)
    {
        using var caller = Tracing.Source.StartActivity(name)!;
        await batcher.RunAsync([1f], CancellationToken.None);
        return caller.Context;
    }

    /// <summary>One float in, one out; the first run waits until released, so later items queue meanwhile.</summary>
    private sealed class HeldChain : IBatchedChain
    {
        private int _runs;

        public TaskCompletionSource FirstRunStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int InputLength => 1;

        public int OutputLength => 1;

        public float[] Run(ReadOnlyMemory<float> inputs, int count, CancellationToken ct)
        {
            if (Interlocked.Increment(ref _runs) == 1)
            {
                FirstRunStarted.SetResult();
                Release.Task.Wait(ct);
            }

            return inputs.ToArray();
        }
    }
}
