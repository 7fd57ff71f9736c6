using Microsoft.Extensions.Options;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Serving;

/// <summary>Creates each engine worker's ONNX executor on the device its "Workers" entry names.</summary>
public sealed class OnnxExecutorFactory(
    ServedModel model,
    IOptions<WorkerPoolOptions> workers,
    IOptions<EngineOptions> engine,
    ILoggerFactory loggerFactory) : IModelExecutorFactory
{
    /// <summary>KV rows per executor when Engine:MaxBatchSize is 0.</summary>
    public const int DefaultMaxBatchSize = 32;

    public IModelExecutor Create(int workerIndex)
    {
        var sessions = CreateSessionFactory(workers.Value.Workers[workerIndex], loggerFactory);
        var bundle = model.Bundle;
        var embed = bundle.Manifest.Embedding is { } embedding ? sessions.Create(bundle.ComponentPath(embedding.Component)) : null;
        try
        {
            var decoder = sessions.Create(bundle.ComponentPath(bundle.Manifest.Decoder.Component));
            int maxBatch = engine.Value.MaxBatchSize > 0 ? engine.Value.MaxBatchSize : DefaultMaxBatchSize;
            return new OnnxModelExecutor(bundle, embed, decoder, maxBatch, ownsSessions: true);
        }
        catch
        {
            embed?.Dispose();
            throw;
        }
    }

    public static SessionFactory CreateSessionFactory(WorkerOptions worker, ILoggerFactory loggerFactory) =>
        new(new DeviceOptions(worker.Device.ToLowerInvariant(), worker.IntraOpThreads, worker.AllowSpinning),
            loggerFactory.CreateLogger<SessionFactory>());
}
