using System.Net;
using System.Net.Sockets;

namespace MmServe.Media.Remote;

/// <summary>
/// The <see cref="SocketsHttpHandler.ConnectCallback"/> of the fetcher. It resolves the host itself, refuses the
/// connection when any resolved address is blocked, and connects to exactly the addresses it checked. Doing
/// both in one place closes the DNS-rebinding gap that a "resolve, check, then let the client resolve again"
/// design leaves open.
/// </summary>
internal sealed class GuardedConnector(AddressPolicy addressPolicy, Func<string, CancellationToken, Task<IPAddress[]>> resolveHost)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = await ResolveAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);

        // All, not just the first: a name that mixes public and internal answers is an attack, not a CDN.
        if (!Array.TrueForAll(addresses, addressPolicy.IsPermitted))
        {
            throw new AddressBlockedException();
        }

        SocketException? lastFailure = null;
        foreach (var address in addresses)
        {
            var target = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(target, endpoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                lastFailure = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw lastFailure ?? new SocketException((int)SocketError.HostNotFound);
    }

    private async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        // IP-literal URLs arrive here as the address text; they need no lookup.
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [literal];
        }

        var addresses = await resolveHost(host, cancellationToken).ConfigureAwait(false);
        return addresses.Length > 0 ? addresses : throw new SocketException((int)SocketError.HostNotFound);
    }
}
