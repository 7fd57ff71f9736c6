using System.Globalization;

namespace MmServe.Soak.Reporting;

/// <summary>Prints samples as a Markdown table (so a run pastes straight into docs/benchmarks.md), in MiB.</summary>
internal static class SampleTable
{
    public const string Header =
        "|        time | requests ok | failed | RSS MiB | anon MiB | file MiB | managed heap MiB | GC committed MiB | native est. MiB | encoder cache MiB | threads |\n" +
        "|------------:|------------:|-------:|--------:|---------:|---------:|-----------------:|-----------------:|----------------:|------------------:|--------:|";

    public static string Row(MemorySample s) => string.Create(CultureInfo.InvariantCulture,
        $"| {Time(s)} | {s.Ok,11} | {s.Failed,6} | {MiB(s.Process.Rss),7} | {MiB(s.Process.RssAnon),8} | {MiB(s.Process.RssFile),8} | {MiB(s.Server.ManagedHeap),16} | {MiB(s.Server.GcCommitted),16} | {MiB(s.NativeEstimate),15} | {MiB(s.Server.EncoderCache),17} | {s.Process.Threads,7} |");

    /// <summary>The idle row is taken after the load stopped.</summary>
    private static string Time(MemorySample s) =>
        string.Create(CultureInfo.InvariantCulture, $"{(s.Idle ? "idle " : "")}{(int)s.Elapsed.TotalSeconds} s").PadLeft(11);

    private static string MiB(long? bytes) =>
        bytes is { } b ? (b / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture) : "n/a";
}
