using System.Globalization;

namespace MmServe.PeerBench;

/// <summary>Command line (README.md); every option has a default but --url.</summary>
internal sealed record PeerBenchOptions(
    Uri? Url, string ModelFolder, string ModelId, IReadOnlyList<string> Workloads, IReadOnlyList<int> Concurrency,
    double? PoissonRate, int PoissonBatch, int Requests, int UniformOutput, int Runs, int Seed, IReadOnlyList<string> Arms,
    int? WarmupRequests, string InProcessDll, int MaxBatchSize)
{
    public const string MmServeArm = "mmserve";
    public const string InProcessArm = "mmserve-inproc";
    public const string StaticArm = "genai-static";
    public const string Batch1Arm = "genai-batch1";

    public static PeerBenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected --name value pairs, got '{args[i]}'");
            }

            values[args[i][2..]] = args[++i];
        }

        string Get(string name, string fallback) => values.Remove(name, out var v) ? v : fallback;
        int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        IReadOnlyList<string> List(string name, string fallback) => Get(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var url = Get("url", "");
        var rate = double.Parse(Get("rate", "40"), CultureInfo.InvariantCulture);
        var options = new PeerBenchOptions(
            url.Length == 0 ? null : new Uri(url.TrimEnd('/') + "/"),
            Get("model-folder", "models/conformance/genai-tiny"),
            Get("model-id", "genai-tiny"),
            List("workloads", "mixed,uniform"),
            [.. List("concurrency", "1,4,16,32").Select(c => int.Parse(c, CultureInfo.InvariantCulture))],
            rate > 0 ? rate : null,
            Int("poisson-batch", 16),
            Int("requests", 64),
            Int("uniform-output", 128),
            Int("runs", 3),
            Int("seed", 1),
            List("arms", $"{MmServeArm},{InProcessArm},{StaticArm},{Batch1Arm}"),
            values.ContainsKey("warmup-requests") ? Int("warmup-requests", 0) : null,
            Get("inproc-dll", DefaultInProcessDll()),
            Int("max-batch-size", 32));
        if (values.Count > 0)
        {
            throw new ArgumentException($"unknown option --{values.Keys.First()}");
        }

        if (options.Arms.Contains(MmServeArm) && options.Url is null)
        {
            throw new ArgumentException("--url (a running MmServe serving the same folder) is required for the mmserve arm");
        }

        if (options.Workloads.FirstOrDefault(w => w is not ("mixed" or "longtail" or "uniform")) is { } unknown)
        {
            throw new ArgumentException($"unknown workload '{unknown}' (mixed, longtail, uniform)");
        }

        if (options.WarmupRequests is < 0)
        {
            throw new ArgumentException("--warmup-requests must be 0 or more");
        }

        return options;
    }

    /// <summary>bench/MmServe.PeerBench.InProcess's build next to this one's (same configuration and framework).</summary>
    private static string DefaultInProcessDll()
    {
        var here = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var sibling = here.Replace($"{Path.DirectorySeparatorChar}MmServe.PeerBench{Path.DirectorySeparatorChar}", $"{Path.DirectorySeparatorChar}MmServe.PeerBench.InProcess{Path.DirectorySeparatorChar}", StringComparison.Ordinal);
        return Path.Combine(sibling, "MmServe.PeerBench.InProcess.dll");
    }
}
