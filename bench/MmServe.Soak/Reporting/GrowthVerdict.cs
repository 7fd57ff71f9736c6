using System.Globalization;

namespace MmServe.Soak.Reporting;

/// <summary>
/// Flat or not, over the samples under load after warm-up (when caches have filled and pools reached their working
/// size). Growth is measured from the first of them and from the lowest of them, and the larger counts: the GC may
/// give memory back just after warm-up, and a creep from that low point is a leak as much as one from the start.
/// The least-squares slope says how fast it moves.
/// </summary>
internal sealed record GrowthVerdict(MemorySample Baseline, MemorySample Lowest, MemorySample Last, long PeakRss, double SlopeMiBPerMinute, double AllowedPercent)
{
    public double GrowthPercent => Math.Max(Percent(Baseline), Percent(Lowest));

    public bool Flat => GrowthPercent <= AllowedPercent;

    /// <summary>Null when fewer than two samples under load came after the warm-up.</summary>
    public static GrowthVerdict? From(IReadOnlyList<MemorySample> samples, TimeSpan warmup, double allowedPercent)
    {
        var measured = samples.Where(s => !s.Idle && s.Elapsed >= warmup).ToList();
        if (measured.Count < 2)
        {
            return null;
        }

        var lowest = measured.MinBy(s => s.Process.Rss)!;
        return new GrowthVerdict(measured[0], lowest, measured[^1], measured.Max(s => s.Process.Rss), Slope(measured), allowedPercent);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"RSS after warm-up: {Mb(Baseline.Process.Rss)} MiB at {Baseline.Elapsed.TotalSeconds:F0} s (lowest {Mb(Lowest.Process.Rss)} MiB at {Lowest.Elapsed.TotalSeconds:F0} s) " +
        $"-> {Mb(Last.Process.Rss)} MiB at {Last.Elapsed.TotalSeconds:F0} s: {Percent(Baseline):+0.0;-0.0} % from the first, {Percent(Lowest):+0.0;-0.0} % from the lowest, " +
        $"peak {Mb(PeakRss)} MiB, slope {SlopeMiBPerMinute:+0.00;-0.00} MiB/min; allowed {AllowedPercent:F1} %: {(Flat ? "FLAT" : "GREW")}");

    private double Percent(MemorySample from) => 100.0 * (Last.Process.Rss - from.Process.Rss) / from.Process.Rss;

    private static double Slope(List<MemorySample> samples)
    {
        double meanX = samples.Average(s => s.Elapsed.TotalMinutes), meanY = samples.Average(s => s.Process.Rss / 1048576.0);
        double covariance = samples.Sum(s => (s.Elapsed.TotalMinutes - meanX) * ((s.Process.Rss / 1048576.0) - meanY));
        double variance = samples.Sum(s => Math.Pow(s.Elapsed.TotalMinutes - meanX, 2));
        return variance == 0 ? 0 : covariance / variance;
    }

    private static string Mb(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture);
}
