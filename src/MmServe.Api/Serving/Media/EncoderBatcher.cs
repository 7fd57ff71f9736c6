using System.Threading.Channels;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Api.Serving.Media;

/// <summary>
/// Coalesces encoder work from concurrent requests into one ORT run per modality: items queue here, and a
/// single loop takes the first waiting item, gathers more until <see cref="EncoderBatchingOptions.MaxBatch"/>
/// items or <see cref="EncoderBatchingOptions.MaxWaitMs"/> have passed, runs encoder + projector once, and hands
/// each caller its slice. Items whose request was cancelled while queued are dropped before the run.
/// </summary>
internal sealed partial class EncoderBatcher : IAsyncDisposable
{
    private readonly EncoderChain _chain;
    private readonly int _maxBatch;
    private readonly TimeSpan _maxWait;
    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly ILogger _logger;
    private long _runs;
    private long _items;

    public EncoderBatcher(EncoderChain chain, EncoderBatchingOptions options, ILogger logger)
    {
        _chain = chain;
        _maxBatch = options.MaxBatch;
        _maxWait = TimeSpan.FromMilliseconds(options.MaxWaitMs);
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Floats one item takes (the chain's preprocessed input size).</summary>
    public int InputLength => _chain.InputLength;

    /// <summary>Floats one item yields (tokens x hidden).</summary>
    public int OutputLength => _chain.TokensPerItem * _chain.HiddenSize;

    /// <summary>Encoder runs so far and items they carried (items / runs is the achieved batch size).</summary>
    public (long Runs, long Items) Stats => (Interlocked.Read(ref _runs), Interlocked.Read(ref _items));

    /// <summary>Queues one preprocessed item; completes with its embeddings (tokens x hidden floats).</summary>
    public Task<float[]> EncodeAsync(float[] input, CancellationToken ct)
    {
        if (input.Length != InputLength)
        {
            throw new ArgumentException($"Expected {InputLength} floats, got {input.Length}.", nameof(input));
        }

        var item = new Item(input, ct);
        if (!_queue.Writer.TryWrite(item))
        {
            throw new ObjectDisposedException(nameof(EncoderBatcher));
        }

        return item.Completion.Task;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Item>(_maxBatch);
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                batch.Clear();
                await GatherAsync(reader, batch).ConfigureAwait(false);
                Run(batch);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }

        while (reader.TryRead(out var left))
        {
            left.Completion.TrySetCanceled();
        }
    }

    /// <summary>Takes what is waiting, then waits up to the max wait for more (never past a full batch).</summary>
    private async Task GatherAsync(ChannelReader<Item> reader, List<Item> batch)
    {
        Drain(reader, batch);
        if (batch.Count >= _maxBatch || _maxWait <= TimeSpan.Zero)
        {
            return;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        wait.CancelAfter(_maxWait);
        try
        {
            while (batch.Count < _maxBatch && await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
            {
                Drain(reader, batch);
            }
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            // The wait is over; run what we have.
        }
    }

    private void Drain(ChannelReader<Item> reader, List<Item> batch)
    {
        while (batch.Count < _maxBatch && reader.TryRead(out var item))
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
        var inputs = new float[batch.Count * inLength];
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i].Input.CopyTo(inputs, i * inLength);
        }

        try
        {
            var outputs = _chain.Encode(inputs, batch.Count, _stopping.Token);
            Interlocked.Increment(ref _runs);
            Interlocked.Add(ref _items, batch.Count);
            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(outputs.AsSpan(i * outLength, outLength).ToArray());
            }
        }
        catch (Exception e)
        {
            // One failed run fails only the items in it; the loop keeps serving later requests.
            Log.RunFailed(_logger, batch.Count, e);
            foreach (var item in batch)
            {
                item.Completion.TrySetException(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private sealed record Item(float[] Input, CancellationToken Cancellation)
    {
        public TaskCompletionSource<float[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Error, "An encoder run over {Count} items failed.")]
        public static partial void RunFailed(ILogger logger, int count, Exception exception);
    }
}
