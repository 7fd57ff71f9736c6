using MmServe.Engine;

namespace MmServe.Serving.Telemetry;

/// <summary>
/// One model engine's load as routers read it: requests waiting (queued for admission or for their prefill),
/// requests running, and KV rows in use 0–1 (running sequences over the executors' rows; a running sequence holds
/// one row). The engine gauges of <see cref="ServingMetrics"/> and the worker's /load endpoint both report these.
/// </summary>
public readonly record struct EngineLoad(int Waiting, int Running, double KvCacheUsage)
{
    public static EngineLoad Of(IGenerationEngine engine)
    {
        var stats = engine.Stats;
        double rows = (double)engine.ModelInfo.MaxBatchSize * Math.Max(1, stats.Workers.Count);
        return new EngineLoad(stats.QueuedRequests + stats.Waiting, stats.Running, rows > 0 ? stats.Running / rows : 0);
    }
}
