using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;
using MmServe.ScaleOutTests.Infrastructure;

namespace MmServe.ScaleOutTests;

/// <summary>
/// A worker with API keys on behind the gateway: the gateway's own reads of the worker (/v1/models, which routing by
/// model needs) carry Gateway:WorkerApiKey, so the worker joins routing; clients' keys go through the gateway
/// untouched (Authorization over REST and as gRPC metadata, x-api-key) and the worker alone decides.
/// </summary>
public sealed class ApiKeysThroughGatewayTests : IAsyncLifetime
{
    private const string GatewayKey = "sk-gateway-0123456789abcdef";

    private readonly int _workerRest = FreePort(), _workerGrpc = FreePort(), _gatewayRest = FreePort(), _gatewayGrpc = FreePort();
    private ServerProcess? _worker;
    private ServerProcess? _gateway;
    private HttpClient _rest = null!;
    private GrpcChannel _channel = null!;

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
        _rest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_gatewayRest}/"), Timeout = TimeSpan.FromSeconds(60) };
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_gatewayGrpc}");
        await WaitUntilTheGatewayRoutesAsync(TimeSpan.FromSeconds(120));
    }

    public Task DisposeAsync()
    {
        _channel?.Dispose();
        _rest?.Dispose();
        _gateway?.Dispose();
        _worker?.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("Authorization", $"Bearer {TestApiKeys.Alice}", HttpStatusCode.OK, null)]
    [InlineData("x-api-key", TestApiKeys.Alice, HttpStatusCode.OK, null)]
    [InlineData("Authorization", $"Bearer {TestApiKeys.Wrong}", HttpStatusCode.Unauthorized, "invalid_api_key")]
    [InlineData(null, null, HttpStatusCode.Unauthorized, "missing_api_key")]
    public async Task RestChat_ThroughTheGateway_IsCheckedByTheWorker(string? header, string? value, HttpStatusCode expected, string? code)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat.Route) { Content = JsonContent(Chat.Request("Hello!", maxTokens: 2)) };
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await _rest.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        if (code is not null)
        {
            Assert.Equal(code, (await Chat.ReadJsonAsync(response)).GetProperty("error").GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task GrpcChat_ThroughTheGateway_CarriesTheKeyAsMetadata()
    {
        var client = new ChatService.ChatServiceClient(_channel);
        var request = GrpcGolden.FromOpenAi(Chat.Request("Hello!", maxTokens: 2), "through-the-gateway");

        var answer = await client.ChatAsync(request, new Metadata { { "authorization", $"Bearer {TestApiKeys.Alice}" } });
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.ChatAsync(request).ResponseAsync);

        Assert.NotEmpty(answer.TokenIds);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    private static StringContent JsonContent(System.Text.Json.Nodes.JsonNode body) =>
        new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    /// <summary>The worker is routable once the gateway's health check has read its /v1/models (with the gateway's key).</summary>
    private async Task WaitUntilTheGatewayRoutesAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var metrics = await _rest.GetStringAsync("metrics");
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
