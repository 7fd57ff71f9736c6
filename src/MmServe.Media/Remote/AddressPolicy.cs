using System.Net;
using System.Net.Sockets;

namespace MmServe.Media.Remote;

/// <summary>
/// Decides whether the fetcher may open a connection to an address: public addresses always, reserved ones
/// (<see cref="ReservedAddressRanges"/>) only inside an operator's <see cref="RemoteMediaOptions.AllowedNetworks"/>.
/// </summary>
internal sealed class AddressPolicy
{
    private readonly IPNetwork[] allowedNetworks;

    public AddressPolicy(IEnumerable<string> allowedNetworks)
    {
        this.allowedNetworks =
        [
            .. allowedNetworks.Select(entry => TryParseNetwork(entry, out var network)
                ? network
                : throw new ArgumentException($"'{entry}' is not a CIDR range.", nameof(allowedNetworks))),
        ];
    }

    public bool IsPermitted(IPAddress address)
    {
        var normalized = Normalize(address);
        foreach (var network in allowedNetworks)
        {
            if (network.Contains(normalized))
            {
                return true;
            }
        }

        return !ReservedAddressRanges.Contains(normalized);
    }

    /// <summary>
    /// The form an address is checked in: <c>::ffff:a.b.c.d</c> becomes the IPv4 address it reaches, and IPv6
    /// scope ids are dropped because they pick an interface, not a different host. (.NET 10's IPNetwork.Contains
    /// happens to match mapped addresses against IPv4 ranges too; mapping explicitly keeps the check from
    /// depending on that.)
    /// </summary>
    public static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0
            ? new IPAddress(address.GetAddressBytes())
            : address;
    }

    public static bool TryParseNetwork(string? entry, out IPNetwork network)
    {
        network = default;
        var slash = entry?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (entry is null || slash < 0 || !IPAddress.TryParse(entry.AsSpan(0, slash).Trim(), out var address)
            || !IPNetwork.TryParse(entry.Trim(), out network))
        {
            return false;
        }

        // Host bits beyond the prefix (10.0.0.1/8) are almost always a typo (a /8 meant as a /32), so they are
        // refused rather than quietly masked.
        return !HasBitsBeyondPrefix(address, network.PrefixLength);
    }

    private static bool HasBitsBeyondPrefix(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var bit = prefixLength; bit < bytes.Length * 8; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                return true;
            }
        }

        return false;
    }
}
