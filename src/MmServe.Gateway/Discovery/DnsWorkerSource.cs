using System.Net;
using System.Net.Sockets;
using MmServe.Gateway.Options;

namespace MmServe.Gateway.Discovery;

/// <summary>
/// The workers behind a Kubernetes headless Service: every A/AAAA record of <see cref="DnsDiscoveryOptions.Name"/> is
/// one worker pod, with the configured REST and gRPC ports. The gateway asks again every refresh interval, so pods
/// that start or go away join or leave the pool (a failed lookup keeps the last list; see WorkerDiscoveryService).
/// </summary>
internal sealed class DnsWorkerSource(IDnsResolver resolver, DnsDiscoveryOptions options) : IWorkerSource
{
    public TimeSpan RefreshInterval => options.RefreshInterval;

    public async ValueTask<IReadOnlyList<WorkerAddress>> ResolveAsync(CancellationToken ct)
    {
        var addresses = await resolver.ResolveAsync(options.Name, ct).ConfigureAwait(false);
        return [.. addresses
            .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            .Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)
            .Distinct()
            .OrderBy(a => a.ToString(), StringComparer.Ordinal)
            .Select(ToWorker)];
    }

    private WorkerAddress ToWorker(IPAddress address)
    {
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return WorkerAddress.Create(
            $"http://{host}:{options.RestPort}",
            options.GrpcPort == 0 ? null : $"http://{host}:{options.GrpcPort}");
    }
}
