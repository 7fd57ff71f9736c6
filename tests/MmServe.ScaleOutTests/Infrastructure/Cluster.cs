using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using MmServe.Grpc.V1;

namespace MmServe.ScaleOutTests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<Cluster>
{
    public const string Name = "gateway and two workers";
}

/// <summary>
/// The gateway and two workers as real processes on loopback, with their defaults except the listen ports and
/// Gateway:WorkerHeader (so that tests see which worker answered). Tests may kill, stop and restart workers;
/// <see cref="EnsureAllUpAsync"/> brings the cluster back.
/// </summary>
public sealed class Cluster : IAsyncLifetime
{
    public const string WorkerHeader = "X-MmServe-Worker";

    private static readonly string BuildDirectory = Path.GetRelativePath(
        Path.Combine(TestPaths.RepoRoot, "tests", "MmServe.ScaleOutTests"), AppContext.BaseDirectory); // bin/<Configuration>/<tfm>/

    public WorkerNode[] Workers { get; } = [new(FreePort(), FreePort()), new(FreePort(), FreePort())];

    public int GatewayRestPort { get; } = FreePort();

    public int GatewayGrpcPort { get; } = FreePort();

    internal ServerProcess? Gateway { get; private set; }

    /// <summary>The gateway's REST endpoint, as a client elsewhere would call it (no trace headers of its own).</summary>
    public HttpClient Rest { get; private set; } = null!;

    public ChatService.ChatServiceClient Grpc { get; private set; } = null!;

    /// <summary>For talking to a worker directly (health, metrics).</summary>
    public HttpClient Direct { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    private GrpcChannel? _channel;

    public static string WorkerDll => Path.Combine(TestPaths.RepoRoot, "src", "MmServe.Api", BuildDirectory, "MmServe.Api.dll");

    public static string GatewayDll => Path.Combine(TestPaths.RepoRoot, "src", "MmServe.Gateway", BuildDirectory, "MmServe.Gateway.dll");

    public async Task InitializeAsync()
    {
        await Task.WhenAll(StartWorkerAsync(0), StartWorkerAsync(1));
        var args = new List<string>
        {
            $"--urls=http://127.0.0.1:{GatewayRestPort}",
            "--Gateway:Grpc:Host=127.0.0.1",
            $"--Gateway:Grpc:Port={GatewayGrpcPort}",
            "--Gateway:WorkerHeader=true",
            "--Logging:LogLevel:Default=Warning",
        };
        for (int i = 0; i < Workers.Length; i++)
        {
            args.Add($"--Gateway:Workers:{i}:Rest={Workers[i].RestUrl}");
            args.Add($"--Gateway:Workers:{i}:Grpc={Workers[i].GrpcUrl}");
        }

        Gateway = ServerProcess.Start(GatewayDll, args);
        Rest = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{GatewayRestPort}/"),
            Timeout = TimeSpan.FromSeconds(60),
        };
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{GatewayGrpcPort}", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ActivityHeadersPropagator = null, EnableMultipleHttp2Connections = true },
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
        Grpc = new ChatService.ChatServiceClient(_channel);
        await EnsureAllUpAsync();
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        Rest?.Dispose();
        Direct.Dispose();
        Gateway?.Dispose();
        foreach (var worker in Workers)
        {
            worker.Process?.Dispose();
        }

        await Task.CompletedTask;
    }

    /// <summary>Starts worker <paramref name="index"/> and waits until its /health/ready answers 200 (warmed up).</summary>
    public async Task<DateTime> StartWorkerAsync(int index)
    {
        var worker = Workers[index];
        worker.Process?.Dispose();
        worker.Process = ServerProcess.Start(WorkerDll,
        [
            $"--urls={worker.RestUrl}",
            "--Grpc:Host=127.0.0.1",
            $"--Grpc:Port={worker.GrpcPort}",
            "--Engine:ShutdownTimeout=00:00:30",
            "--Logging:LogLevel:Default=Warning",
        ]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            if (worker.Process.HasExited)
            {
                throw new InvalidOperationException($"worker {worker.Name} exited with {worker.Process.ExitCode}:\n{worker.Process.Output()}");
            }

            if (await IsOkAsync($"{worker.RestUrl}/health/ready"))
            {
                return DateTime.UtcNow;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"worker {worker.Name} was not ready within 120 s:\n{worker.Process.Output()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Restarts whatever worker is down, then waits until the gateway routes to every worker.</summary>
    public async Task EnsureAllUpAsync()
    {
        await Task.WhenAll(Workers.Select((w, i) => w.Process is { HasExited: false } ? Task.CompletedTask : StartWorkerAsync(i)));
        foreach (var worker in Workers)
        {
            await WaitUntilGatewaySeesAsync(worker, healthy: true, TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Polls the gateway's mmserve_gateway_worker_healthy gauge of <paramref name="worker"/>.</summary>
    public async Task WaitUntilGatewaySeesAsync(WorkerNode worker, bool healthy, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var metrics = await TryGetStringAsync(Rest, "metrics");
            if (metrics is not null && Metrics.Sum(metrics, "mmserve_gateway_worker_healthy", $"worker=\"{worker.Name}\"") == (healthy ? 1 : 0))
            {
                return;
            }

            if (Gateway!.HasExited)
            {
                throw new InvalidOperationException($"the gateway exited with {Gateway.ExitCode}:\n{Gateway.Output()}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the gateway did not see {worker.Name} {(healthy ? "healthy" : "unhealthy")} within {timeout}:\n{Gateway.Output()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The sum of every series of a counter or gauge on a worker's /metrics.</summary>
    public async Task<double> WorkerMetricAsync(WorkerNode worker, string name) =>
        Metrics.Sum(await Direct.GetStringAsync($"{worker.RestUrl}/metrics"), name);

    public WorkerNode WorkerNamed(string name) => Workers.Single(w => w.Name == name);

    private async Task<bool> IsOkAsync(string url)
    {
        try
        {
            using var response = await Direct.GetAsync(url);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task<string?> TryGetStringAsync(HttpClient client, string url)
    {
        try
        {
            return await client.GetStringAsync(url);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One worker: its ports and, while it runs, its process.</summary>
public sealed class WorkerNode(int restPort, int grpcPort)
{
    public int RestPort { get; } = restPort;

    public int GrpcPort { get; } = grpcPort;

    public string RestUrl => $"http://127.0.0.1:{RestPort}";

    public string GrpcUrl => $"http://127.0.0.1:{GrpcPort}";

    /// <summary>How the gateway names it (X-MmServe-Worker, metric labels).</summary>
    public string Name => $"127.0.0.1:{RestPort}";

    internal ServerProcess? Process { get; set; }

    public override string ToString() => Name;
}

/// <summary>Reads Prometheus text.</summary>
public static class Metrics
{
    /// <summary>The sum of the series named <paramref name="name"/> whose labels contain <paramref name="labelFilter"/>.</summary>
    public static double Sum(string text, string name, string? labelFilter = null)
    {
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#') || !(line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal)))
            {
                continue;
            }

            if (labelFilter is not null && !line.Contains(labelFilter, StringComparison.Ordinal))
            {
                continue;
            }

            var value = line[(line.LastIndexOf('}') is var brace and >= 0 ? brace + 1 : name.Length)..].Trim().Split(' ')[0];
            sum += double.Parse(value, CultureInfo.InvariantCulture);
        }

        return sum;
    }
}
