using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MmServe.Abstractions;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Coalesces work on one component chain (an encoder + projector, or an output projector + generator) from
/// concurrent requests into shared ORT runs: items queue here, and a loop waits for a free run slot (at most
/// <c>maxConcurrentRuns</c> runs at once, so several cores stay busy while items keep queueing), takes the
/// waiting items, gathers more until <c>maxBatch</c> items are queued or <c>maxWait</c> has passed, runs the
/// chain once, and hands each caller its slice. Items whose request was cancelled while queued are dropped before
/// the run; a run whose every item was cancelled is terminated.
/// </summary>
public sealed partial class ComponentBatcher : IAsyncDisposable
{
    private readonly IBatchedChain _chain;
    private readonly int _maxBatch;
    private readonly TimeSpan _maxWait;
    private readonly int _maxConcurrentRuns;
    private readonly SemaphoreSlim _runSlots;
    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(); // multi-reader flavour: it can Count
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly ILogger _logger;
    private readonly string _spanName;
    private readonly Action<int>? _runObserved;
    private volatile Exception? _fault;
    private long _runs;
    private long _items;
    private long _abandonedRuns;
    private int _disposed;

    /// <param name="chain">The components to run.</param>
    /// <param name="maxBatch">Most items per run; 1 runs the items one at a time.</param>
    /// <param name="maxWait">How long the first waiting item may wait for company.</param>
    /// <param name="logger">Logs failed runs.</param>
    /// <param name="maxConcurrentRuns">Runs in flight at once (default: one per core).</param>
    /// <param name="spanName">Name of each run's span, e.g. "encoder image"; the span links to every item's caller.</param>
    /// <param name="runObserved">Told the item count of every run that completes (for metrics).</param>
    public ComponentBatcher(
        IBatchedChain chain, int maxBatch, TimeSpan maxWait, ILogger logger, int maxConcurrentRuns = 0, string spanName = "component run", Action<int>? runObserved = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        ArgumentOutOfRangeException.ThrowIfNegative(maxConcurrentRuns);
        _chain = chain;
        _maxBatch = maxBatch;
        _maxWait = maxWait;
        _maxConcurrentRuns = maxConcurrentRuns == 0 ? Environment.ProcessorCount : maxConcurrentRuns;
        _runSlots = new SemaphoreSlim(_maxConcurrentRuns, _maxConcurrentRuns);
        _logger = logger;
        _spanName = spanName;
        _runObserved = runObserved;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Floats one item takes (the chain's preprocessed input size).</summary>
    public int InputLength => _chain.InputLength;

    /// <summary>Floats one item yields.</summary>
    public int OutputLength => _chain.OutputLength;

    /// <summary>Runs so far and items they carried (items / runs is the achieved batch size).</summary>
    public (long Runs, long Items) Stats => (Interlocked.Read(ref _runs), Interlocked.Read(ref _items));

    /// <summary>Runs terminated because every item in them had been cancelled.</summary>
    public long AbandonedRuns => Interlocked.Read(ref _abandonedRuns);

    /// <summary>Queues one item (<see cref="InputLength"/> floats); completes with its output (<see cref="OutputLength"/> floats).</summary>
    public Task<float[]> RunAsync(float[] input, CancellationToken ct)
    {
        if (input.Length != InputLength)
        {
            throw new ArgumentException($"Expected {InputLength} floats, got {input.Length}.", nameof(input));
        }

        if (_fault is { } fault)
        {
            throw new InvalidOperationException("The encoder batcher has failed; see the log.", fault);
        }

        // The caller's span, so the shared run can link back to every request it served.
        var item = new Item(input, ct) { Caller = Activity.Current?.Context ?? default };
        if (!_queue.Writer.TryWrite(item))
        {
            throw new ObjectDisposedException(nameof(ComponentBatcher));
        }

        return item.Completion.Task;
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                // A free slot first: while every slot is busy, newcomers queue up and then leave as one batch.
                await _runSlots.WaitAsync(_stopping.Token).ConfigureAwait(false);

                // Share what is queued among the free slots, so a burst keeps every core busy instead of
                // leaving as one big run while the other slots idle.
                int share = (int)Math.Ceiling(reader.Count / (double)(_runSlots.CurrentCount + 1));
                var batch = new List<Item>(_maxBatch);
                await GatherAsync(reader, batch, Math.Clamp(share, 1, _maxBatch)).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    _runSlots.Release();
                    continue;
                }

                _ = Task.Run(() =>
                {
                    try
                    {
                        Run(batch);
                    }
                    finally
                    {
                        _runSlots.Release();
                    }
                });
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A bug in the loop itself: fail loudly and fail callers instead of leaving them waiting forever.
            _fault = e;
            Log.LoopFailed(_logger, e);
        }

        while (reader.TryRead(out var left))
        {
            if (_fault is null)
            {
                left.Completion.TrySetCanceled();
            }
            else
            {
                left.Completion.TrySetException(_fault);
            }
        }
    }

    /// <summary>Takes what is waiting, then waits up to the max wait for more (never past <paramref name="target"/> items).</summary>
    private async Task GatherAsync(ChannelReader<Item> reader, List<Item> batch, int target)
    {
        Drain(reader, batch, target);
        if (batch.Count >= target || _maxWait <= TimeSpan.Zero)
        {
            return;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        wait.CancelAfter(_maxWait);
        try
        {
            while (batch.Count < target && await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
            {
                Drain(reader, batch, target);
            }
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            // The wait is over; run what we have.
        }
    }

    private static void Drain(ChannelReader<Item> reader, List<Item> batch, int target)
    {
        while (batch.Count < target && reader.TryRead(out var item))
        {
            if (item.Cancellation.IsCancellationRequested)
            {
                item.Completion.TrySetCanceled(item.Cancellation);
                continue;
            }

            batch.Add(item);
        }
    }

    private void Run(List<Item> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        int inLength = InputLength;
        int outLength = OutputLength;

        // A lone item runs on its own buffer; only a real batch is gathered into one.
        var inputs = batch.Count == 1 ? batch[0].Input : new float[batch.Count * inLength];
        if (batch.Count > 1)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Input.CopyTo(inputs, i * inLength);
            }
        }

        // When every caller in this run has gone away (client disconnects), the run is terminated: nobody would
        // read its result, and a generator run can be the most expensive step of a request.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        int live = batch.Count;
        var registrations = new CancellationTokenRegistration[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            registrations[i] = batch[i].Cancellation.UnsafeRegister(
                _ =>
                {
                    if (Interlocked.Decrement(ref live) == 0)
                    {
                        abandon.Cancel();
                    }
                },
                null);
        }

        // One span per run, its own root: it serves several requests, so it links to each instead of having a parent.
        using var span = Tracing.Source.StartActivity(
            _spanName, ActivityKind.Internal, default(ActivityContext), [new("mmserve.batch.size", batch.Count)], Links(batch));
        try
        {
            var outputs = _chain.Run(inputs, batch.Count, abandon.Token);
            Interlocked.Increment(ref _runs);
            Interlocked.Add(ref _items, batch.Count);
            _runObserved?.Invoke(batch.Count);
            if (batch.Count == 1)
            {
                batch[0].Completion.TrySetResult(outputs);
                return;
            }

            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(outputs.AsSpan(i * outLength, outLength).ToArray());
            }
        }
        catch (Exception) when (Volatile.Read(ref live) == 0 && !_stopping.IsCancellationRequested)
        {
            // ORT reports a terminated run as a failure; here it is the expected end of an abandoned run.
            Interlocked.Increment(ref _abandonedRuns);
            foreach (var item in batch)
            {
                item.Completion.TrySetCanceled(item.Cancellation);
            }
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error);
            // One failed run fails only the items in it; the loop keeps serving later requests.
            Log.RunFailed(_logger, batch.Count, e);
            foreach (var item in batch)
            {
                item.Completion.TrySetException(e);
            }
        }
        finally
        {
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    /// <summary>Stops the loop and waits for runs in flight; later calls do nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);

        // Runs in flight finish (cancelled through the stopping token) before the chain can be disposed.
        for (int i = 0; i < _maxConcurrentRuns; i++)
        {
            await _runSlots.WaitAsync().ConfigureAwait(false);
        }

        _runSlots.Dispose();
        _stopping.Dispose();
    }

    private static IEnumerable<ActivityLink>? Links(List<Item> batch) =>
        Tracing.Source.HasListeners() ? [.. batch.Where(i => i.Caller != default).Select(i => new ActivityLink(i.Caller))] : null;

    private sealed record Item(float[] Input, CancellationToken Cancellation)
    {
        public ActivityContext Caller { get; init; }

        public TaskCompletionSource<float[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Error, "An encoder run over {Count} items failed.")]
        public static partial void RunFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(31, LogLevel.Critical, "The encoder batching loop failed; this modality's media requests now fail.")]
        public static partial void LoopFailed(ILogger logger, Exception exception);
    }
}
