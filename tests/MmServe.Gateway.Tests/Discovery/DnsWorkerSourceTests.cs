using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Gateway.Discovery;
using MmServe.Gateway.Options;
using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Tests.Discovery;

/// <summary>A headless Service's name re-resolved: pods join and leave the pool; a failed lookup keeps the last list.</summary>
public sealed class DnsWorkerSourceTests
{
    private sealed class FakeResolver : IDnsResolver
    {
        public ConcurrentQueue<string> Asked { get; } = [];

        public Func<IPAddress[]> Answer { get; set; } = () => [];

        public Task<IPAddress[]> ResolveAsync(string name, CancellationToken ct)
        {
            Asked.Enqueue(name);
            return Task.FromResult(Answer());
        }
    }

    private static readonly DnsDiscoveryOptions Options = new() { Name = "workers.mmserve.svc.cluster.local", RestPort = 8080, GrpcPort = 8081 };

    [Fact]
    public async Task EveryAddress_IsOneWorker_WithTheConfiguredPorts()
    {
        var resolver = new FakeResolver { Answer = () => [IPAddress.Parse("10.1.0.7"), IPAddress.Parse("fd00::5"), IPAddress.Parse("10.1.0.7"), IPAddress.Parse("::ffff:10.1.0.9")] };

        var workers = await new DnsWorkerSource(resolver, Options).ResolveAsync(default);

        Assert.Equal(["workers.mmserve.svc.cluster.local"], resolver.Asked);
        Assert.Equal(
            [
                WorkerAddress.Create("http://10.1.0.7:8080", "http://10.1.0.7:8081"),
                WorkerAddress.Create("http://10.1.0.9:8080", "http://10.1.0.9:8081"),
                WorkerAddress.Create("http://[fd00::5]:8080", "http://[fd00::5]:8081"),
            ],
            workers);
    }

    [Fact]
    public async Task GrpcPortZero_MeansTheWorkersServeNoGrpc()
    {
        var resolver = new FakeResolver { Answer = () => [IPAddress.Parse("10.1.0.7")] };

        var workers = await new DnsWorkerSource(resolver, new DnsDiscoveryOptions { Name = "w", RestPort = 9000, GrpcPort = 0 }).ResolveAsync(default);

        Assert.Equal([WorkerAddress.Create("http://10.1.0.7:9000", null)], workers);
    }

    [Fact]
    public async Task ReResolving_AddsNewPods_DropsGoneOnes_AndKeepsTheStateOfTheRest()
    {
        var resolver = new FakeResolver { Answer = () => [IPAddress.Parse("10.1.0.1"), IPAddress.Parse("10.1.0.2")] };
        var pool = new WorkerPool();
        var discovery = new WorkerDiscoveryService(new DnsWorkerSource(resolver, Options), pool, NullLogger<WorkerDiscoveryService>.Instance);

        Assert.True(await discovery.RefreshAsync(default));
        var second = pool.Workers.Single(w => w.Name == "10.1.0.2:8080");
        second.SetHealthy(true);

        resolver.Answer = () => [IPAddress.Parse("10.1.0.3"), IPAddress.Parse("10.1.0.2")];
        Assert.True(await discovery.RefreshAsync(default));

        Assert.Equal(["10.1.0.2:8080", "10.1.0.3:8080"], pool.Workers.Select(w => w.Name).Order());
        Assert.Same(second, pool.Workers.Single(w => w.Name == "10.1.0.2:8080"));
        Assert.True(second.Healthy);
        Assert.False(pool.Workers.Single(w => w.Name == "10.1.0.3:8080").Healthy); // new pods wait for their health check
    }

    [Fact]
    public async Task AFailedLookup_KeepsTheLastList()
    {
        var resolver = new FakeResolver { Answer = () => [IPAddress.Parse("10.1.0.1")] };
        var pool = new WorkerPool();
        var discovery = new WorkerDiscoveryService(new DnsWorkerSource(resolver, Options), pool, NullLogger<WorkerDiscoveryService>.Instance);
        await discovery.RefreshAsync(default);

        resolver.Answer = () => throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound);

        Assert.False(await discovery.RefreshAsync(default));
        Assert.Equal(["10.1.0.1:8080"], pool.Workers.Select(w => w.Name));
    }

    [Fact]
    public async Task TheServiceReResolves_EveryRefreshInterval()
    {
        var resolver = new FakeResolver { Answer = () => [IPAddress.Parse("10.1.0.1")] };
        var pool = new WorkerPool();
        var options = new DnsDiscoveryOptions { Name = "w", RestPort = 8080, GrpcPort = 8081, RefreshInterval = TimeSpan.FromMilliseconds(20) };
        using var discovery = new WorkerDiscoveryService(new DnsWorkerSource(resolver, options), pool, NullLogger<WorkerDiscoveryService>.Instance);

        await discovery.StartAsync(default);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (resolver.Asked.Count < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await discovery.StopAsync(default);
        Assert.True(resolver.Asked.Count >= 3, $"asked {resolver.Asked.Count} times");
    }
}
