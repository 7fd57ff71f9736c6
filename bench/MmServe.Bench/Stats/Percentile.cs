namespace MmServe.Bench.Stats;

/// <summary>
/// Percentiles with linear interpolation between closest ranks: numpy.percentile's default ("linear"), which is
/// what vLLM's benchmark_serving reports, so numbers from the two tools are comparable.
/// </summary>
public static class Percentile
{
    /// <summary>The p-th percentile (0..100) of values, which need not be sorted; NaN when there are none.</summary>
    public static double Of(IEnumerable<double> values, double p)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return OfSorted(sorted, p);
    }

    /// <summary>As <see cref="Of"/>, for values already sorted ascending (saves a sort per percentile).</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double p)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(p, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(p, 100);
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        // numpy: virtual index h = (n - 1) * p / 100, then interpolate between floor(h) and floor(h) + 1.
        var h = (sorted.Count - 1) * p / 100.0;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
