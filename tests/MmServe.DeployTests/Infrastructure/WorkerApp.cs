using System.Net;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MmServe.Engine;
using MmServe.Serving;

namespace MmServe.DeployTests.Infrastructure;

/// <summary>
/// The real worker app, in process, started with the settings a deploy file gives it (only the model path and the
/// listen addresses are the test's): it must accept them, map the probe routes the deploy file points at, and report
/// the shutdown timeouts it will really use.
/// </summary>
internal sealed class WorkerApp
{
    /// <summary>Keys the test server owns: where it listens and which model folder it serves.</summary>
    private static readonly string[] TestOwned = ["urls", "http_ports", "https_ports", "Grpc:Host", "Grpc:Port", "Model:Path"];

    public required TimeSpan HostShutdownTimeout { get; init; }

    public required TimeSpan EngineShutdownTimeout { get; init; }

    /// <summary>Shutdown:DrainDelay: how long the worker serves on, not ready, after SIGTERM.</summary>
    public required TimeSpan DrainDelay { get; init; }

    /// <summary>Each path asked for, with the status it answered once the server was ready.</summary>
    public required IReadOnlyDictionary<string, HttpStatusCode> Answers { get; init; }

    public required string Metrics { get; init; }

    /// <summary>
    /// SIGTERM to exit: the host's shutdown timeout, which MmServe sets to DrainDelay + Engine:ShutdownTimeout + 1 s
    /// (the "abort" endings are written in that last second).
    /// </summary>
    public TimeSpan DrainBudget => HostShutdownTimeout;

    public static async Task<WorkerApp> StartAsync(IReadOnlyDictionary<string, string?> overrides, IEnumerable<string> paths)
    {
        var settings = overrides
            .Where(kv => !TestOwned.Contains(kv.Key, StringComparer.OrdinalIgnoreCase))
            .ToDictionary(kv => kv.Key, kv => kv.Value);

        // This machine has no GPU: a cuda worker is started with the CPU fallback allowed, where the app has that switch.
        if (settings.Any(kv => kv.Key.EndsWith(":Device", StringComparison.OrdinalIgnoreCase) && kv.Value?.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) == true)
            && typeof(WorkerOptions).GetProperty("AllowCpuFallback", BindingFlags.Public | BindingFlags.Instance) is not null)
        {
            foreach (var key in settings.Keys.Where(k => k.EndsWith(":Device", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                settings[key[..^":Device".Length] + ":AllowCpuFallback"] = "true";
            }
        }

        await using var factory = new MmServeFactory(settings);
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        var answers = new Dictionary<string, HttpStatusCode>();
        foreach (var path in paths.Distinct())
        {
            using var response = await client.GetAsync(path.TrimStart('/'));
            answers[path] = response.StatusCode;
        }

        return new WorkerApp
        {
            HostShutdownTimeout = factory.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout,
            EngineShutdownTimeout = factory.Services.GetRequiredService<IOptions<EngineOptions>>().Value.ShutdownTimeout,
            DrainDelay = factory.Services.GetRequiredService<IConfiguration>().GetValue("Shutdown:DrainDelay", TimeSpan.Zero),
            Answers = answers,
            Metrics = await client.GetStringAsync("metrics"),
        };
    }
}
