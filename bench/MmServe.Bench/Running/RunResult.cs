using MmServe.Bench.Client;

namespace MmServe.Bench.Running;

/// <summary>One measured run: its settings, wall-clock duration and every request's outcome.</summary>
internal sealed record RunResult(
    int? MaxConcurrency,
    double? RequestRate,
    double DurationSeconds,
    int PeakInFlight,
    IReadOnlyList<RequestResult> Requests);
