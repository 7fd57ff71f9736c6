using MmServe.Bench.Running;
using MmServe.Bench.Stats;

namespace MmServe.Bench.Reporting;

/// <summary>
/// The summary vLLM's benchmark_serving prints, computed the same way: only successful requests count; TPOT is
/// (latency - TTFT) / (output tokens - 1) per request with more than one output token; ITL pools every gap of
/// every request; throughputs divide by the run's wall-clock duration.
/// </summary>
internal sealed record BenchMetrics(
    int Completed,
    int Failed,
    double DurationSeconds,
    long TotalInputTokens,
    long TotalOutputTokens,
    double RequestThroughput,
    double OutputThroughput,
    double TotalTokenThroughput,
    LatencyStats Ttft,
    LatencyStats Tpot,
    LatencyStats Itl,
    LatencyStats E2el)
{
    public static BenchMetrics From(RunResult run)
    {
        var ok = run.Requests.Where(r => r.Success).ToArray();
        long input = ok.Sum(r => (long)r.PromptTokens);
        long output = ok.Sum(r => (long)r.CompletionTokens);
        var duration = run.DurationSeconds;
        var tpots = ok.Where(r => r.CompletionTokens > 1).Select(r => (r.Latency - r.Ttft) / (r.CompletionTokens - 1));

        return new BenchMetrics(
            Completed: ok.Length,
            Failed: run.Requests.Count - ok.Length,
            DurationSeconds: duration,
            TotalInputTokens: input,
            TotalOutputTokens: output,
            RequestThroughput: ok.Length / duration,
            OutputThroughput: output / duration,
            TotalTokenThroughput: (input + output) / duration,
            Ttft: LatencyStats.FromSeconds(ok.Select(r => r.Ttft)),
            Tpot: LatencyStats.FromSeconds(tpots),
            Itl: LatencyStats.FromSeconds(ok.SelectMany(r => r.Itls)),
            E2el: LatencyStats.FromSeconds(ok.Select(r => r.Latency)));
    }
}
