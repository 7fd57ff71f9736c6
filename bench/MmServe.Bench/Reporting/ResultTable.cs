using System.Globalization;
using System.Text;
using MmServe.Bench.Running;
using MmServe.Bench.Stats;

namespace MmServe.Bench.Reporting;

/// <summary>Renders results in vLLM's layout (40-column labels, 50-column rules) so the tables diff cleanly.</summary>
internal static class ResultTable
{
    private const int Width = 50;

    public static string Render(RunResult run, BenchMetrics m)
    {
        var sb = new StringBuilder();
        sb.AppendLine(Rule(" Serving Benchmark Result ", '='));
        Row(sb, "Successful requests:", m.Completed);
        Row(sb, "Failed requests:", m.Failed);
        if (run.MaxConcurrency is { } c)
        {
            Row(sb, "Maximum request concurrency:", c);
        }

        Row(sb, "Request rate configured (RPS):", run.RequestRate is { } r ? F(r) : "inf");
        Row(sb, "Benchmark duration (s):", F(m.DurationSeconds));
        Row(sb, "Total input tokens:", m.TotalInputTokens);
        Row(sb, "Total generated tokens:", m.TotalOutputTokens);
        Row(sb, "Request throughput (req/s):", F(m.RequestThroughput));
        Row(sb, "Output token throughput (tok/s):", F(m.OutputThroughput));
        Row(sb, "Peak concurrent requests:", run.PeakInFlight);
        Row(sb, "Total token throughput (tok/s):", F(m.TotalTokenThroughput));
        Section(sb, "Time to First Token", "TTFT", m.Ttft);
        Section(sb, "Time per Output Token (excl. 1st token)", "TPOT", m.Tpot);
        Section(sb, "Inter-token Latency", "ITL", m.Itl);
        Section(sb, "End-to-end Latency", "E2EL", m.E2el);
        sb.AppendLine(new string('=', Width));
        return sb.ToString();
    }

    private static void Section(StringBuilder sb, string title, string name, LatencyStats s)
    {
        sb.AppendLine(Rule(title, '-'));
        Row(sb, $"Mean {name} (ms):", F(s.MeanMs));
        Row(sb, $"Median {name} (ms):", F(s.MedianMs));
        Row(sb, $"P99 {name} (ms):", F(s.P99Ms));
    }

    /// <summary>Python's "{:c^50}".format(title): centred, extra padding on the right.</summary>
    public static string Rule(string title, char fill)
    {
        var pad = Math.Max(0, Width - title.Length);
        return new string(fill, pad / 2) + title + new string(fill, pad - pad / 2);
    }

    public static void Row(StringBuilder sb, string label, object value) =>
        sb.AppendLine(CultureInfo.InvariantCulture, $"{label,-40} {value}");

    public static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
