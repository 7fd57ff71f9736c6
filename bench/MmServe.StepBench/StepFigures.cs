using System.Globalization;

namespace MmServe.StepBench;

/// <summary>The figures every StepBench mode prints: medians of rounds, and a batch's decode line.</summary>
internal static class StepFigures
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>"batch B: ms/step, tok/s, bytes per sequence per step" from the rounds' medians.</summary>
    public static string DecodeLine(int batch, IEnumerable<double> ms, IEnumerable<double> bytesPerStep)
    {
        double stepMs = Median(ms);
        return string.Create(CultureInfo.InvariantCulture,
            $"batch {batch,3}: {stepMs,7:F3} ms/step, {batch * 1000 / stepMs,8:F0} tok/s, {Median(bytesPerStep) / batch,9:F0} B allocated per sequence per step");
    }
}
