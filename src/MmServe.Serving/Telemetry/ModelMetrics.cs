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

    public void InterToken(long previousTimestamp, long nowTimestamp, int tokens) =>
        metrics.InterToken(model, Stopwatch.GetElapsedTime(previousTimestamp, nowTimestamp), tokens);
}
