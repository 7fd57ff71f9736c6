using System.Globalization;
using System.Net;

namespace MmServe.Media.Remote;

/// <summary>
/// Decides whether a URL's host is one the operator allowed. Hosts are compared in canonical form
/// (lower-case punycode without a trailing dot, or the canonical text of an IP address), so
/// <c>EXAMPLE.com.</c> and <c>example.com</c> are the same host and <c>2130706433</c> is <c>127.0.0.1</c>.
/// </summary>
internal sealed class HostAllowlist
{
    private readonly HashSet<string> exactHosts = new(StringComparer.Ordinal);

    // Each stored with its leading dot, so "*.example.com" matches "a.example.com" but not "badexample.com".
    private readonly List<string> wildcardSuffixes = [];

    public HostAllowlist(IEnumerable<string> entries)
    {
        foreach (var entry in entries)
        {
            if (!TryParseEntry(entry, out var parsed))
            {
                throw new ArgumentException($"'{entry}' is not a valid allowed-domain entry.", nameof(entries));
            }

            if (parsed.IsWildcard)
            {
                wildcardSuffixes.Add("." + parsed.Host);
            }
            else
            {
                exactHosts.Add(parsed.Host);
            }
        }
    }

    public bool IsAllowed(Uri url)
    {
        switch (url.HostNameType)
        {
            case UriHostNameType.IPv4:
            case UriHostNameType.IPv6:
                // Wildcards name domains, so an IP literal must be listed exactly.
                return IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) && exactHosts.Contains(CanonicalAddress(address));
            case UriHostNameType.Dns:
            case UriHostNameType.Basic:
                var host = CanonicalName(url.IdnHost);
                return exactHosts.Contains(host) || wildcardSuffixes.Exists(suffix => host.EndsWith(suffix, StringComparison.Ordinal));
            default:
                return false;
        }
    }

    /// <summary>Parses one configured entry; false for anything that is not a bare host, IP or <c>*.domain</c>.</summary>
    public static bool TryParseEntry(string? entry, out (string Host, bool IsWildcard) parsed)
    {
        parsed = default;
        if (string.IsNullOrWhiteSpace(entry))
        {
            return false;
        }

        var text = entry.Trim();
        var isWildcard = text.StartsWith("*.", StringComparison.Ordinal);
        if (isWildcard)
        {
            text = text[2..];
        }

        var bareAddress = text.StartsWith('[') && text.EndsWith(']') ? text[1..^1] : text;
        if (!isWildcard && Uri.CheckHostName(bareAddress) is UriHostNameType.IPv4 or UriHostNameType.IPv6
            && IPAddress.TryParse(bareAddress, out var address))
        {
            parsed = (CanonicalAddress(address), false);
            return true;
        }

        if (Uri.CheckHostName(text) != UriHostNameType.Dns)
        {
            return false;
        }

        try
        {
            parsed = (CanonicalName(new IdnMapping().GetAscii(text.TrimEnd('.'))), isWildcard);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string CanonicalName(string host) => host.TrimEnd('.').ToLowerInvariant();

    // Scope ids (fe80::1%eth0) name an interface, not a different host.
    private static string CanonicalAddress(IPAddress address) => new IPAddress(address.GetAddressBytes()).ToString();
}
