using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace MmServe.ScaleOutTests.Infrastructure;

/// <summary>One worker with keys (Alice's and the gateway's) and the gateway in front of it with Gateway:WorkerApiKey.</summary>
public sealed class KeyedWorkerBehindGateway : IAsyncLifetime
{
    private const string GatewayKey = "sk-gateway-0123456789abcdef";

    private readonly int _workerRest = FreePort(), _workerGrpc = FreePort(), _gatewayRest = FreePort(), _gatewayGrpc = FreePort();
    private ServerProcess? _worker;
    private ServerProcess? _gateway;

    public HttpClient Rest { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _worker = ServerProcess.Start(Cluster.WorkerDll,
        [
            $"--urls=http://127.0.0.1:{_workerRest}",
            "--Grpc:Host=127.0.0.1",
            $"--Grpc:Port={_workerGrpc}",
            $"--Auth:ApiKeys:0=alice {TestApiKeys.Alice}",
            $"--Auth:ApiKeys:1=gateway {GatewayKey}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        _gateway = ServerProcess.Start(Cluster.GatewayDll,
        [
            $"--urls=http://127.0.0.1:{_gatewayRest}",
            "--Gateway:Grpc:Host=127.0.0.1",
            $"--Gateway:Grpc:Port={_gatewayGrpc}",
            $"--Gateway:Workers:0:Rest=http://127.0.0.1:{_workerRest}",
            $"--Gateway:Workers:0:Grpc=http://127.0.0.1:{_workerGrpc}",
            $"--Gateway:WorkerApiKey={GatewayKey}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        Rest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_gatewayRest}/"), Timeout = TimeSpan.FromSeconds(60) };
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_gatewayGrpc}");
        await WaitUntilTheGatewayRoutesAsync(TimeSpan.FromSeconds(120));
    }

    public Task DisposeAsync()
    {
        Channel?.Dispose();
        Rest?.Dispose();
        _gateway?.Dispose();
        _worker?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>The worker is routable once the gateway's health check has read its /v1/models (with the gateway's key).</summary>
    private async Task WaitUntilTheGatewayRoutesAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var metrics = await Rest.GetStringAsync("metrics");
                if (Metrics.Sum(metrics, "mmserve_gateway_worker_healthy") == 1)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (_worker!.HasExited || _gateway!.HasExited || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the gateway did not route to the worker with keys on:\n{_gateway!.Output()}\n--- worker:\n{_worker.Output()}");
            }

            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
