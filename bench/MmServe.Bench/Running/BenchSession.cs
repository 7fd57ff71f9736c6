using System.Globalization;
using MmServe.Bench.Client;
using MmServe.Bench.Cli;
using MmServe.Bench.Reporting;
using MmServe.Bench.Workload;

namespace MmServe.Bench.Running;

/// <summary>Builds the workload once, warms the server up, then runs it at each concurrency level and reports.</summary>
internal static class BenchSession
{
    /// <summary>Seed offset for warm-up prompts, so they never share (and pre-warm caches for) measured prompts.</summary>
    private const int WarmupSeedOffset = 7919;

    public static async Task<int> RunAsync(BenchOptions o, TextWriter output, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue })
        {
            Timeout = TimeSpan.FromSeconds(o.RequestTimeoutSeconds),
        };
        var client = new ChatStreamClient(http, o.Url);
        var runner = new LoadRunner(client);

        var workload = PromptMix.Build(o, o.NumRequests, o.Seed);
        var images = workload.Count(r => r.HasImage);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Workload: {workload.Count} requests ({images} with a 64x64 PNG), max_tokens {o.MaxTokens}, ignore_eos {(o.IgnoreEos ? "true" : "false")}, return_token_ids {(o.ReturnTokenIds ? "true" : "false")}, temperature {o.Temperature}, seed {o.Seed}"));
        output.WriteLine($"Traffic request rate: {(o.RequestRate is { } rate ? rate.ToString(CultureInfo.InvariantCulture) : "inf")}");

        if (o.Warmup > 0 && !await WarmUpAsync(o, runner, output, ct).ConfigureAwait(false))
        {
            return 1;
        }

        var levels = new List<(RunResult Run, BenchMetrics Metrics)>();
        foreach (var concurrency in o.ConcurrencyLevels)
        {
            output.WriteLine($"Maximum request concurrency: {concurrency?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
            var run = await runner.RunAsync(workload, concurrency, o.RequestRate, o.Seed, ct).ConfigureAwait(false);
            var metrics = BenchMetrics.From(run);
            levels.Add((run, metrics));
            output.Write(ResultTable.Render(run, metrics));
            ReportErrors(run, output);
        }

        if (levels.Count > 1)
        {
            output.Write(SweepSummary.Render(levels));
        }

        if (o.OutputJson is { } path)
        {
            JsonReport.Write(path, o, levels);
            output.WriteLine($"Results written to {path}");
        }

        return levels.Any(l => l.Metrics.Completed > 0) ? 0 : 1;
    }

    /// <summary>Like vLLM's initial test prompt: stop early, with the server's reason, if nothing gets through.</summary>
    private static async Task<bool> WarmUpAsync(BenchOptions o, LoadRunner runner, TextWriter output, CancellationToken ct)
    {
        var warmup = PromptMix.Build(o, o.Warmup, o.Seed + WarmupSeedOffset);
        output.WriteLine($"Warming up with {warmup.Count} request(s)...");
        var run = await runner.RunAsync(warmup, o.ConcurrencyLevels[0], requestRate: null, o.Seed, ct).ConfigureAwait(false);
        if (run.Requests.Any(r => r.Success))
        {
            return true;
        }

        output.WriteLine("Warm-up failed; is the server up and the model name right?");
        ReportErrors(run, output);
        return false;
    }

    private static void ReportErrors(RunResult run, TextWriter output)
    {
        var errors = run.Requests.Where(r => !r.Success).GroupBy(r => r.Error).OrderByDescending(g => g.Count()).Take(3);
        foreach (var group in errors)
        {
            output.WriteLine($"  {group.Count()} x {group.Key}");
        }
    }
}
