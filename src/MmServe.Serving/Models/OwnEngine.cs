using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Model.Tokenization;

namespace MmServe.Serving.Models;

/// <summary>
/// The <see cref="GenerationEngine"/> of a model served apart from "Models" (Whisper, Florence-2): its own workers,
/// the server's queue, batch and shutdown limits, and one executor per worker from <paramref name="create"/>.
/// </summary>
internal static class OwnEngine
{
    /// <param name="create">A new executor for a worker, given the batch size it must hold.</param>
    public static GenerationEngine Create(
        int workers, EngineOptions limits, Func<int, IModelExecutor> create, ByteLevelBpeTokenizer tokenizer, int eosTokenId, ILoggerFactory? loggerFactory)
    {
        var options = new EngineOptions
        {
            NumWorkers = workers,
            MaxQueuedRequests = limits.MaxQueuedRequests,
            MaxBatchSize = limits.MaxBatchSize,
            MaxNumBatchedTokens = limits.MaxNumBatchedTokens,
            ShutdownTimeout = limits.ShutdownTimeout,
        };
        int maxBatch = options.MaxBatchSize > 0 ? options.MaxBatchSize : 64;
        return new GenerationEngine(new ExecutorFactory(() => create(maxBatch)), new TokenTextDecoder(tokenizer, [eosTokenId]), options, loggerFactory);
    }

    private sealed class ExecutorFactory(Func<IModelExecutor> create) : IModelExecutorFactory
    {
        public IModelExecutor Create(int workerIndex) => create();
    }
}
