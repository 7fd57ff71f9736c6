using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MmServe.Gateway.Hosting;
using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Tests.Infrastructure;

/// <summary>The gateway in-process on real Kestrel (REST only), in front of the given workers.</summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHost(WebApplication app)
    {
        _app = app;
        // Like a client in another process: it sends the trace headers a test sets, and none of its own (the gateway's
        // tracing listens to every HttpClient of this process).
        Client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Client { get; }

    public WorkerPool Pool => _app.Services.GetRequiredService<WorkerPool>();

    public Worker Worker(FakeWorker fake) => Pool.Workers.Single(w => w.Name == fake.Name);

    /// <param name="workerUrls">REST base URLs.</param>
    /// <param name="settings">Extra configuration (e.g. Gateway:HealthCheck:Interval).</param>
    public static async Task<GatewayHost> StartAsync(IReadOnlyList<string> workerUrls, IDictionary<string, string?>? settings = null, bool waitHealthy = true)
    {
        var config = new Dictionary<string, string?>
        {
            ["Gateway:Grpc:Enabled"] = "false",
            ["Gateway:WorkerHeader"] = "true",
            ["Gateway:HealthCheck:Interval"] = "00:00:00.100",
            ["Gateway:Load:Interval"] = "00:00:00.050",
        };
        for (int i = 0; i < workerUrls.Count; i++)
        {
            config[$"Gateway:Workers:{i}:Rest"] = workerUrls[i];
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(config);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.AddGateway();
        var app = builder.Build();
        app.MapGateway();
        await app.StartAsync();
        var host = new GatewayHost(app);
        if (waitHealthy)
        {
            // Tests that switch later checks off (a one-hour interval) would wait forever if the first check failed on
            // a loaded machine (a fake worker's first answer can take longer than the 2 s probe timeout while it JITs),
            // so the wait probes the unhealthy workers itself each second.
            var monitor = app.Services.GetServices<IHostedService>().OfType<WorkerMonitor>().Single();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            var nextProbe = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            while (host.Pool.Workers.Count < workerUrls.Count || !host.Pool.Workers.All(w => w.Healthy))
            {
                Assert.True(DateTime.UtcNow < deadline, "the workers did not turn healthy");
                if (DateTime.UtcNow >= nextProbe)
                {
                    await Task.WhenAll(host.Pool.Workers.Where(w => !w.Healthy).Select(w => monitor.CheckHealthAsync(w, CancellationToken.None)));
                    nextProbe = DateTime.UtcNow + TimeSpan.FromSeconds(1);
                }

                await Task.Delay(20);
            }
        }

        return host;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
