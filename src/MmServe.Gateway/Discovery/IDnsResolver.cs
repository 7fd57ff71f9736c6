using System.Net;

namespace MmServe.Gateway.Discovery;

/// <summary>Name → addresses; the system resolver in production, a fake in tests.</summary>
internal interface IDnsResolver
{
    Task<IPAddress[]> ResolveAsync(string name, CancellationToken ct);
}

internal sealed class SystemDnsResolver : IDnsResolver
{
    public Task<IPAddress[]> ResolveAsync(string name, CancellationToken ct) => Dns.GetHostAddressesAsync(name, ct);
}
