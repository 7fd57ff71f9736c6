using System.Globalization;
using System.Net;

namespace MmServe.DeployTests.Infrastructure;

/// <summary>
/// The TCP sockets listening on this machine, from /proc/net/tcp{,6}: whether a port is bound on every interface
/// (0.0.0.0 or ::), as a container's port must be to be reachable from outside it. Connecting through 127.0.0.1 cannot
/// tell that apart from a localhost-only listener.
/// </summary>
internal static class ListeningSockets
{
    private const string Listen = "0A";

    /// <summary>The local addresses of the sockets listening on <paramref name="port"/>.</summary>
    public static IReadOnlyList<IPAddress> AddressesOf(int port) =>
        [.. new[] { "/proc/net/tcp", "/proc/net/tcp6" }
            .Where(File.Exists)
            .SelectMany(file => File.ReadLines(file).Skip(1))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 3 && f[3] == Listen && int.Parse(f[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
            .Select(f => Decode(f[1].Split(':')[0]))];

    public static void AssertBoundOnEveryInterface(int port, string what)
    {
        var addresses = AddressesOf(port);
        Assert.True(addresses.Count > 0, $"{what}: nothing listens on port {port}");
        Assert.True(
            addresses.Any(a => a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any)),
            $"{what}: port {port} is bound to {string.Join(", ", addresses)} only, not to every interface");
    }

    /// <summary>The kernel prints each 32-bit word of the address in host order (little-endian on x64 and arm64).</summary>
    private static IPAddress Decode(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        for (int i = 0; i < bytes.Length; i += 4)
        {
            Array.Reverse(bytes, i, 4);
        }

        return new IPAddress(bytes);
    }
}
