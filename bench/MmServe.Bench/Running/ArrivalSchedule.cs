namespace MmServe.Bench.Running;

/// <summary>
/// When each request is sent, in seconds from the start of the run: a Poisson process (exponential gaps with
/// mean 1/rate, vLLM's default burstiness of 1) drawn from a fixed seed, or all at time 0 when no rate is set.
/// </summary>
internal static class ArrivalSchedule
{
    public static double[] Build(int count, double? rate, int seed)
    {
        var times = new double[count];
        if (rate is not { } r)
        {
            return times;
        }

        var rng = new Random(seed);
        var t = 0.0;
        for (var i = 0; i < count; i++)
        {
            times[i] = t;
            // Inverse-CDF sampling; 1 - U lies in (0, 1], so the log is finite.
            t += -Math.Log(1.0 - rng.NextDouble()) / r;
        }

        return times;
    }
}
