namespace MmServe.Bench.Stats;

/// <summary>Mean, median and p99 of one latency kind, in milliseconds.</summary>
public sealed record LatencyStats(double MeanMs, double MedianMs, double P99Ms)
{
    /// <summary>
    /// Summarises samples given in seconds. No samples gives zeros, as vLLM does (np.mean(x or 0)), so a run in
    /// which every request failed still prints a table.
    /// </summary>
    public static LatencyStats FromSeconds(IEnumerable<double> seconds)
    {
        var ms = seconds.Select(s => s * 1000.0).ToArray();
        if (ms.Length == 0)
        {
            return new LatencyStats(0, 0, 0);
        }

        Array.Sort(ms);
        return new LatencyStats(ms.Average(), Percentile.OfSorted(ms, 50), Percentile.OfSorted(ms, 99));
    }
}
