using System.Net;
using System.Net.Sockets;

namespace MmServe.Media.Remote;

/// <summary>
/// Address ranges a server-side fetch must never reach: this host, private and carrier networks, link-local
/// (cloud metadata services live at 169.254.169.254), multicast, broadcast and ranges reserved for
/// documentation, benchmarking or deprecated transition schemes. Only the public internet remains.
/// </summary>
internal static class ReservedAddressRanges
{
    private static readonly IPNetwork[] Ranges =
    [
        .. new[]
        {
            "0.0.0.0/8", // "this network"; 0.0.0.0 reaches the local host on Linux
            "10.0.0.0/8", // private
            "100.64.0.0/10", // carrier-grade NAT
            "127.0.0.0/8", // loopback
            "169.254.0.0/16", // link-local, cloud metadata
            "172.16.0.0/12", // private
            "192.0.0.0/24", // IETF protocol assignments
            "192.0.2.0/24", // documentation (TEST-NET-1)
            "192.88.99.0/24", // deprecated 6to4 relay anycast
            "192.168.0.0/16", // private
            "198.18.0.0/15", // benchmarking
            "198.51.100.0/24", // documentation (TEST-NET-2)
            "203.0.113.0/24", // documentation (TEST-NET-3)
            "224.0.0.0/4", // multicast
            "240.0.0.0/4", // reserved, includes 255.255.255.255 broadcast
            "::/96", // unspecified, loopback and deprecated IPv4-compatible (::a.b.c.d) addresses
            "64:ff9b:1::/48", // local-use NAT64
            "100::/64", // discard-only
            "2001::/23", // IETF protocol assignments, includes Teredo and benchmarking
            "2001:db8::/32", // documentation
            "3fff::/20", // documentation
            "fc00::/7", // unique local
            "fe80::/10", // link-local
            "fec0::/10", // deprecated site-local
            "ff00::/8", // multicast
        }.Select(range => IPNetwork.Parse(range)),
    ];

    // These IPv6 prefixes carry an IPv4 address that the packet is ultimately delivered to.
    private static readonly IPNetwork Nat64WellKnown = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <summary>True when <paramref name="address"/> (already normalised, see <see cref="AddressPolicy"/>) is not public.</summary>
    public static bool Contains(IPAddress address)
    {
        foreach (var range in Ranges)
        {
            if (range.Contains(address))
            {
                return true;
            }
        }

        return EmbeddedIPv4(address) is { } embedded && Contains(embedded);
    }

    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        var bytes = address.GetAddressBytes();
        if (Nat64WellKnown.Contains(address))
        {
            return new IPAddress(bytes.AsSpan(12, 4));
        }

        return SixToFour.Contains(address) ? new IPAddress(bytes.AsSpan(2, 4)) : null;
    }
}
