using System.Diagnostics;
using MmServe.Abstractions;
using MmServe.Serving.Errors;

namespace MmServe.Serving.Telemetry;

/// <summary><see cref="ServingMetrics"/> for one served model, with request timing from Stopwatch timestamps.</summary>
public sealed class ModelMetrics(ServingMetrics metrics, string model)
{
    public string Model => model;

    public void Refused(ServingError error, long startedTimestamp) =>
        metrics.Refused(model, error, Stopwatch.GetElapsedTime(startedTimestamp));

    public void Finished(FinishReason reason, int promptTokens, int completionTokens, long startedTimestamp, long? firstTokenTimestamp) =>
        metrics.Finished(
            model,
            reason,
            promptTokens,
            completionTokens,
            Stopwatch.GetElapsedTime(startedTimestamp),
            firstTokenTimestamp is { } first ? Stopwatch.GetElapsedTime(startedTimestamp, first) : null);

    /// <summary>Queue and prefill time from the engine's timestamps (a stage not reached is 0 and not recorded).</summary>
    public void EngineStages(Engine.RequestTimings timings)
    {
        if (timings.Scheduled == 0)
        {
            return;
        }

        metrics.EngineStages(
            model,
            Stopwatch.GetElapsedTime(timings.Submitted, timings.Scheduled),
            timings.FirstToken == 0 ? null : Stopwatch.GetElapsedTime(timings.Scheduled, timings.FirstToken));
    }

    public void InterToken(long previousTimestamp, long nowTimestamp) =>
        metrics.InterToken(model, Stopwatch.GetElapsedTime(previousTimestamp, nowTimestamp));
}
