using MmServe.Soak.Cli;
using MmServe.Soak.Load;
using MmServe.Soak.Memory;
using MmServe.Soak.Reporting;

namespace MmServe.Soak;

/// <summary>Finds the server, drives the load for the duration, samples memory every interval, judges growth.</summary>
internal static class SoakSession
{
    public const int Flat = 0;
    public const int NotFlat = 1;
    public const int BadSetup = 2;

    /// <summary>After the load stops: long enough for in-flight work to drain and a GC to run.</summary>
    private static readonly TimeSpan IdlePause = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(SoakOptions options, TextWriter output, CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux())
        {
            await output.WriteLineAsync("MmServe.Soak reads /proc and runs on Linux only.");
            return BadSetup;
        }

        int? pid = options.Pid ?? PortOwner.Find(options.Url.Port);
        if (pid is not { } serverPid || ProcessMemory.Read(serverPid) is null)
        {
            await output.WriteLineAsync($"No server process found for {options.Url} (pass --pid).");
            return BadSetup;
        }

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency + 2 })
        {
            Timeout = TimeSpan.FromMinutes(5),
        };
        var load = options.Audio.Count > 0
            ? SoakLoad.Transcriptions(new TranscriptionClient(http, options.Url), [.. options.Audio.Select(File.ReadAllBytes)], options.Model, options.Concurrency, options.Seed)
            : SoakLoad.Chat(new StreamingClient(http, options.Url), options.Model, options.Concurrency, options.MaxTokens, options.Seed);
        string workload = options.Audio.Count > 0 ? $"transcriptions of {options.Audio.Count} file(s) by {options.Model}" : "streams";
        await output.WriteLineAsync(
            $"soak: {options.Concurrency} {workload} against {options.Url} (pid {serverPid}) for {options.Duration}, sampling every {options.Interval}, warm-up {options.Warmup}");
        await output.WriteLineAsync(SampleTable.Header);

        var samples = new List<MemorySample>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        async Task<bool> SampleAsync(bool idle)
        {
            var process = ProcessMemory.Read(serverPid);
            if (process is null)
            {
                await output.WriteLineAsync($"the server (pid {serverPid}) has exited");
                return false;
            }

            var server = await ServerMetrics.ScrapeAsync(http, options.Url, CancellationToken.None).ConfigureAwait(false);
            var sample = new MemorySample(clock.Elapsed, load.Ok, load.Failed, process, server, idle);
            samples.Add(sample);
            await output.WriteLineAsync(SampleTable.Row(sample));
            return true;
        }

        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await SampleAsync(idle: false);
        var running = load.RunAsync(stopLoad.Token);
        bool alive = true;
        try
        {
            var next = options.Interval;
            while (alive && next <= options.Duration)
            {
                await Task.Delay(next - clock.Elapsed, ct).ConfigureAwait(false);
                alive = await SampleAsync(idle: false);
                next += options.Interval;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await output.WriteLineAsync("stopped early (Ctrl+C)");
        }

        await stopLoad.CancelAsync();
        await running;
        if (alive)
        {
            await Task.Delay(IdlePause, CancellationToken.None);
            await SampleAsync(idle: true);
        }

        return Report(options, load, samples, output);
    }

    private static int Report(SoakOptions options, SoakLoad load, List<MemorySample> samples, TextWriter output)
    {
        output.WriteLine($"requests: {load.Ok} ok, {load.Failed} failed{string.Concat(load.Errors.Select(e => $"; {e.Value} x {e.Key}"))}");
        var verdict = GrowthVerdict.From(samples, options.Warmup, options.MaxGrowthPercent);
        if (verdict is null)
        {
            output.WriteLine("not enough samples after the warm-up to judge growth");
            return NotFlat;
        }

        output.WriteLine(verdict);
        return verdict.Flat && load.Failed == 0 ? Flat : NotFlat;
    }
}
