using MmServe.Bench.Running;
using MmServe.Bench.Stats;

namespace MmServe.PeerBench.Reporting;

/// <summary>
/// One arm at one load point over its repeated runs: the median run's output tok/s and the spread across runs, and
/// TTFT / TPOT percentiles (ms) as vLLM's benchmark_serving defines them (TPOT per request: (latency − TTFT) / (tokens − 1)),
/// each the median over runs.
/// </summary>
internal sealed record ArmSummary(
    string Workload, string Load, string Arm, int Runs, double OutputTokPerSec, double SpreadPercent,
    double TtftP50, double TtftP99, double TpotP50, double TpotP99, int Failed)
{
    public static ArmSummary From(string workload, string load, string arm, IReadOnlyList<RunResult> runs)
    {
        var tokPerSec = runs.Select(r => r.Requests.Where(q => q.Success).Sum(q => q.CompletionTokens) / r.DurationSeconds).ToList();
        double median = Median(tokPerSec);
        return new ArmSummary(
            workload, load, arm, runs.Count, median,
            median > 0 ? (tokPerSec.Max() - tokPerSec.Min()) / median * 100 : 0,
            Median(runs.Select(r => Ms(Ttfts(r), 50))),
            Median(runs.Select(r => Ms(Ttfts(r), 99))),
            Median(runs.Select(r => Ms(Tpots(r), 50))),
            Median(runs.Select(r => Ms(Tpots(r), 99))),
            runs.Sum(r => r.Requests.Count(q => !q.Success)));
    }

    public static void PrintTable(IEnumerable<ArmSummary> rows, TextWriter output)
    {
        output.WriteLine("| workload | load | arm | runs | output tok/s | spread | TTFT p50 ms | TTFT p99 ms | TPOT p50 ms | TPOT p99 ms | failed |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            output.WriteLine(FormattableString.Invariant(
                $"| {r.Workload} | {r.Load} | {r.Arm} | {r.Runs} | {r.OutputTokPerSec:F0} | {r.SpreadPercent:F0} % | {r.TtftP50:F1} | {r.TtftP99:F1} | {r.TpotP50:F2} | {r.TpotP99:F2} | {r.Failed} |"));
        }
    }

    private static IEnumerable<double> Ttfts(RunResult run) => run.Requests.Where(q => q.Success).Select(q => q.Ttft);

    private static IEnumerable<double> Tpots(RunResult run) =>
        run.Requests.Where(q => q.Success && q.CompletionTokens > 1).Select(q => (q.Latency - q.Ttft) / (q.CompletionTokens - 1));

    private static double Ms(IEnumerable<double> seconds, double p) => Percentile.Of(seconds, p) * 1000;

    private static double Median(IEnumerable<double> values) => Percentile.Of(values, 50);
}
