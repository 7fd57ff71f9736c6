using MmServe.Abstractions;
using MmServe.Engine.Core;
using MmServe.Engine.Output;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MmServe.Engine;

/// <summary>
/// The generation engine: validates and admits requests, dispatches each to the least-loaded worker, and lets
/// each worker's step loop batch them continuously over its own <see cref="IModelExecutor"/>.
/// </summary>
public sealed class GenerationEngine : IGenerationEngine, IDisposable
{
    private readonly EngineWorker[] _workers;
    private readonly AdmissionQueue _admission;
    private readonly ITokenTextDecoder _textDecoder;
    private readonly TimeSpan _shutdownTimeout;
    private long _nextSequenceId;
    private int _disposed;
    private int _stoppedGenerating;

    public GenerationEngine(
        IModelExecutorFactory executorFactory,
        ITokenTextDecoder textDecoder,
        EngineOptions? options = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(executorFactory);
        ArgumentNullException.ThrowIfNull(textDecoder);
        options ??= new EngineOptions();
        options.Validate();

        _textDecoder = textDecoder;
        _shutdownTimeout = options.ShutdownTimeout;
        _admission = new AdmissionQueue(options.MaxQueuedRequests);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GenerationEngine>();

        var executors = CreateExecutors(executorFactory, options.NumWorkers);
        ModelInfo = executors[0].Info;
        int maxBatchSize = options.MaxBatchSize == 0
            ? ModelInfo.MaxBatchSize
            : Math.Min(options.MaxBatchSize, ModelInfo.MaxBatchSize);

        _workers = new EngineWorker[executors.Length];
        for (int i = 0; i < executors.Length; i++)
        {
            _workers[i] = new EngineWorker(i, executors[i], maxBatchSize, options.MaxNumBatchedTokens,
                textDecoder.IsEos, _admission, logger);
        }

        foreach (var worker in _workers)
        {
            worker.Start();
        }
    }

    public ExecutorInfo ModelInfo { get; }

    /// <summary>Tells <paramref name="observer"/> the tokens of every engine step (all workers), for metrics; call before traffic arrives.</summary>
    public void ObserveStepTokens(Action<int> observer)
    {
        foreach (var worker in _workers)
        {
            worker.StepTokensObserved = observer;
        }
    }

    public EngineStats Stats => new(_admission.Count, Array.ConvertAll(_workers, w => w.Stats));

    public ValueTask<GenerationHandle> SubmitAsync(GenerationRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        string requestId = request.RequestId ?? string.Empty;

        if (Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _stoppedGenerating) != 0)
        {
            return Reject(requestId, new EngineError(EngineErrorCode.Unavailable, "The engine is shutting down."));
        }

        if (RequestValidator.Validate(request, ModelInfo) is { } invalid)
        {
            return Reject(requestId, invalid);
        }

        if (ct.IsCancellationRequested)
        {
            return Reject(requestId, new EngineError(EngineErrorCode.Cancelled, "The request was cancelled before it was queued."));
        }

        if (!_admission.TryEnter())
        {
            return Reject(requestId, new EngineError(EngineErrorCode.QueueFull, "The server is overloaded; retry later."));
        }

        var sequence = new Sequence(
            Interlocked.Increment(ref _nextSequenceId),
            request,
            ModelInfo.MaxContext,
            new TextOutputProcessor(_textDecoder.CreateIncrementalDecoder(), request.Sampling.Stop),
            new RequestOutputCollector(request.Sampling.Logprobs, ModelInfo.HiddenSize));

        if (!DispatchToLeastLoaded(sequence, ct))
        {
            _admission.Leave();
            return Reject(requestId, new EngineError(EngineErrorCode.Unavailable, "The engine is shutting down."));
        }

        return ValueTask.FromResult(new GenerationHandle(requestId, sequence.Id, sequence.Output, rejection: null));
    }

    public void StopGenerating()
    {
        Volatile.Write(ref _stoppedGenerating, 1);
        foreach (var worker in _workers)
        {
            worker.AbortAll();
        }
    }

    /// <summary>Stops the workers; requests still in flight end with an Unavailable error.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var worker in _workers)
        {
            worker.BeginShutdown();
        }

        var deadline = DateTime.UtcNow + _shutdownTimeout;
        foreach (var worker in _workers)
        {
            var left = deadline - DateTime.UtcNow;
            worker.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            worker.Dispose();
        }
    }

    private bool DispatchToLeastLoaded(Sequence sequence, CancellationToken ct)
    {
        // Least active requests wins, ties to the lowest index; a worker that stopped is skipped.
        Span<bool> tried = stackalloc bool[_workers.Length];
        for (int attempt = 0; attempt < _workers.Length; attempt++)
        {
            int best = -1;
            for (int i = 0; i < _workers.Length; i++)
            {
                if (!tried[i] && (best < 0 || _workers[i].Load < _workers[best].Load))
                {
                    best = i;
                }
            }

            tried[best] = true;
            if (_workers[best].TryEnqueue(sequence, ct))
            {
                return true;
            }
        }

        return false;
    }

    private static ValueTask<GenerationHandle> Reject(string requestId, EngineError error)
    {
        var output = new RequestOutputCollector(wantsLogprobs: false, hiddenSize: 0);
        output.Complete(new ErrorEvent(error));
        return ValueTask.FromResult(new GenerationHandle(requestId, 0, output, error));
    }

    private static IModelExecutor[] CreateExecutors(IModelExecutorFactory factory, int count)
    {
        var executors = new List<IModelExecutor>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                var executor = factory.Create(i) ?? throw new InvalidOperationException("The executor factory returned null.");
                executors.Add(executor);
                CheckInfo(executor.Info, executors[0].Info);
            }
        }
        catch
        {
            foreach (var executor in executors)
            {
                executor.Dispose();
            }

            throw;
        }

        return [.. executors];
    }

    private static void CheckInfo(ExecutorInfo info, ExecutorInfo first)
    {
        if (info.VocabSize <= 0 || info.MaxContext <= 0 || info.MaxBatchSize <= 0 || info.HiddenSize < 0)
        {
            throw new InvalidOperationException($"The executor reported invalid limits: {info}.");
        }

        if (info != first)
        {
            throw new InvalidOperationException($"All workers must serve the same model shape: {info} differs from {first}.");
        }
    }
}
