using Microsoft.Extensions.Options;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Runtime.Onnx.Execution;
using MmServe.Serving.Capabilities;

namespace MmServe.Serving;

/// <summary>
/// Creates each engine worker's ONNX executor on the device its "Workers" entry names, and reports where it really
/// runs (<see cref="WorkerPlacements"/>, the start-up log). A worker on the CUDA execution provider keeps its KV cache
/// on the GPU; CUDA that cannot be used fails start (<see cref="ExecutionProviderUnavailableException"/>) unless the
/// entry allows the CPU fallback.
/// </summary>
public sealed partial class OnnxExecutorFactory(
    ServedModel model,
    IOptions<WorkerPoolOptions> workers,
    IOptions<EngineOptions> engine,
    ILoggerFactory loggerFactory,
    WorkerPlacements placements) : IModelExecutorFactory
{
    /// <summary>KV rows per executor when Engine:MaxBatchSize is 0.</summary>
    public const int DefaultMaxBatchSize = 32;

    private readonly ILogger _logger = loggerFactory.CreateLogger<OnnxExecutorFactory>();

    public IModelExecutor Create(int workerIndex)
    {
        var pool = workers.Value;
        var sessions = CreateSessionFactory(
            pool.Workers[workerIndex], $"{pool.SettingPath}:{workerIndex}", loggerFactory, model.Bundle.GenAi?.SessionOptions.IntraOpNumThreads);
        var embed = model.Bundle.Manifest.Embedding is { } embedding ? sessions.Create(model.Bundle.ComponentPath(embedding.Component)) : null;
        try
        {
            // The placement is known once a session exists (a CUDA worker may have fallen back to CPU).
            var bundle = sessions.Placement.IsCuda ? model.Bundle : model.CpuBundle;
            var decoder = sessions.Create(bundle.ComponentPath(bundle.Manifest.Decoder.Component));
            int maxBatch = engine.Value.MaxBatchSize > 0 ? engine.Value.MaxBatchSize : DefaultMaxBatchSize;
            var placement = sessions.Placement;
            if (bundle.Manifest.CrossAttention is { } cross)
            {
                return CreateCrossAttention(workerIndex, bundle, embed!, decoder, sessions, cross, maxBatch);
            }

            var executor = new OnnxModelExecutor(
                bundle, embed, decoder, maxBatch, ownsSessions: true, cudaDeviceId: placement.IsCuda ? sessions.Device.CudaDeviceId : null);
            placements.Report(new WorkerPlacement(workerIndex, placement.Device, placement.ExecutionProvider, placement.FallbackReason, executor.KvCacheLocation));
            Log.WorkerPlaced(_logger, model.Id, workerIndex, placement.Device, placement.ExecutionProvider, executor.KvCacheLocation,
                placement.FallbackReason is { } reason ? $"; CPU fallback: {reason}" : string.Empty);
            return executor;
        }
        catch
        {
            embed?.Dispose();
            throw;
        }
    }

    /// <param name="settingKey">The worker's configuration entry ("Workers:0"), named in errors.</param>
    /// <param name="modelIntraOpThreads">
    /// The model folder's own thread count (an ORT GenAI folder's session_options.intra_op_num_threads), used when the
    /// worker's IntraOpThreads is 0: the operator's setting wins, the folder's beats ORT's default.
    /// </param>
    public static SessionFactory CreateSessionFactory(WorkerOptions worker, string settingKey, ILoggerFactory loggerFactory, int? modelIntraOpThreads = null) =>
        new(new DeviceOptions(worker.Device.ToLowerInvariant(), worker.IntraOpThreads > 0 ? worker.IntraOpThreads : modelIntraOpThreads ?? 0, worker.AllowSpinning)
            {
                AllowCpuFallback = worker.AllowCpuFallback,
                SettingKey = settingKey,
                Cuda = new CudaSettings(
                    (long)worker.GpuMemLimitMb * 1024 * 1024,
                    WorkerOptions.ArenaExtendStrategies[worker.ArenaExtendStrategy],
                    WorkerOptions.CudnnConvAlgoSearches[worker.CudnnConvAlgoSearch]),
            },
            loggerFactory.CreateLogger<SessionFactory>());

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Model {ModelId} worker {Worker}: device {Device}, execution provider {ExecutionProvider}, KV cache on {KvCache}{Fallback}.")]
        public static partial void WorkerPlaced(ILogger logger, string modelId, int worker, string device, string executionProvider, string kvCache, string fallback);
    }
}
