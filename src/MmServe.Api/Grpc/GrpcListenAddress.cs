using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MmServe.Api.Grpc;

/// <summary>
/// Where the gRPC endpoint listens once Kestrel has bound it; with Grpc:Port 0 this is the only way to learn
/// the port the OS picked (tests use it).
/// </summary>
internal sealed class GrpcListenAddress
{
    private ListenOptions? _listen;

    /// <summary>http://host:port/ of the bound gRPC endpoint, or null when gRPC is disabled or not yet bound.</summary>
    public Uri? Address => _listen?.EndPoint switch
    {
        IPEndPoint { Port: > 0 } ip when ip.Address.Equals(IPAddress.Any) || ip.Address.Equals(IPAddress.IPv6Any) =>
            new Uri($"http://127.0.0.1:{ip.Port}/"),
        IPEndPoint { Port: > 0 } ip => new Uri($"http://{(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip.Address}]" : ip.Address.ToString())}:{ip.Port}/"),
        _ => null,
    };

    internal void Listening(ListenOptions listen) => _listen = listen;
}
