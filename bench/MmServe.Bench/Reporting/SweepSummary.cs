using System.Globalization;
using System.Text;
using MmServe.Bench.Running;

namespace MmServe.Bench.Reporting;

/// <summary>One line per sweep level, then how far output throughput scaled from the first level to the last.</summary>
internal static class SweepSummary
{
    public static string Render(IReadOnlyList<(RunResult Run, BenchMetrics Metrics)> levels)
    {
        var sb = new StringBuilder();
        sb.AppendLine(ResultTable.Rule(" Concurrency Sweep ", '='));
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"Concurrency",-12}{"Output tok/s",14}{"Req/s",10}{"TTFT p50",11}{"TPOT p50",11}{"Failed",8}");
        foreach (var (run, m) in levels)
        {
            var c = run.MaxConcurrency?.ToString(CultureInfo.InvariantCulture) ?? "inf";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{c,-12}{m.OutputThroughput,14:F2}{m.RequestThroughput,10:F2}{m.Ttft.MedianMs,11:F2}{m.Tpot.MedianMs,11:F2}{m.Failed,8}");
        }

        if (Ratio(levels) is { } ratio)
        {
            var label = $"Output tok/s ratio ({Level(levels[^1].Run)} vs {Level(levels[0].Run)}):";
            ResultTable.Row(sb, label, ratio.ToString("F2", CultureInfo.InvariantCulture) + "x");
        }

        sb.AppendLine(new string('=', 50));
        return sb.ToString();
    }

    /// <summary>Last level's output throughput over the first's; null with fewer than two levels or a zero base.</summary>
    public static double? Ratio(IReadOnlyList<(RunResult Run, BenchMetrics Metrics)> levels) =>
        levels.Count >= 2 && levels[0].Metrics.OutputThroughput > 0
            ? levels[^1].Metrics.OutputThroughput / levels[0].Metrics.OutputThroughput
            : null;

    private static string Level(RunResult run) =>
        run.MaxConcurrency is { } c ? "c=" + c.ToString(CultureInfo.InvariantCulture) : "c=inf";
}
