namespace MmServe.Media.Remote;

/// <summary>
/// Policy for fetching media that clients reference by http(s) URL. Bound from the configuration section
/// <see cref="SectionName"/>; the defaults refuse everything until an operator opts in.
/// </summary>
public sealed record RemoteMediaOptions
{
    public const string SectionName = "Media:Remote";

    // Upper bounds exist only to catch typos (a timeout of 15000 meant as milliseconds) at startup.
    private const int MaxAllowedRedirects = 10;
    private const int MaxAllowedRetries = 5;
    private const int MaxAllowedTimeoutSeconds = 300;

    /// <summary>Master switch; when false every fetch fails with <see cref="RemoteMediaErrors.DisabledCode"/>.</summary>
    public bool Enabled { get; init; }

    /// <summary>
    /// Hosts that may be fetched from: an exact host (<c>cdn.example.com</c>, or an IP literal) or a wildcard
    /// (<c>*.example.com</c>) that matches every subdomain but not the domain itself. Empty allows nothing.
    /// Any port of an allowed host may be used.
    /// </summary>
    public IReadOnlyList<string> AllowedDomains { get; init; } = [];

    /// <summary>When false only https URLs (and redirects to https) are fetched.</summary>
    public bool AllowHttp { get; init; }

    /// <summary>Redirects followed per fetch, each re-checked against this policy; 0 refuses any redirect.</summary>
    public int MaxRedirects { get; init; } = 3;

    /// <summary>Budget for the whole fetch: every redirect, retry, back-off delay and the body download.</summary>
    public int TimeoutSeconds { get; init; } = 15;

    /// <summary>Extra attempts after a transient failure (connection error, HTTP 408/429/500/502/503/504).</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>
    /// CIDR ranges (<c>10.1.2.0/24</c>, <c>fd00::/64</c>) exempt from the private/reserved-address block, for an
    /// operator's own internal media server. Empty by default: every non-public address is refused.
    /// </summary>
    public IReadOnlyList<string> AllowedNetworks { get; init; } = [];

    /// <summary>Throws when a value is out of range or a list entry is malformed, so mistakes fail at startup.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRedirects);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxRedirects, MaxAllowedRedirects);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TimeoutSeconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(TimeoutSeconds, MaxAllowedTimeoutSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxRetries, MaxAllowedRetries);
        ArgumentNullException.ThrowIfNull(AllowedDomains);
        ArgumentNullException.ThrowIfNull(AllowedNetworks);

        foreach (var entry in AllowedDomains)
        {
            if (!HostAllowlist.TryParseEntry(entry, out _))
            {
                throw new ArgumentException(
                    $"'{entry}' is not a host name, IP address or '*.domain' wildcard (no scheme, port or path).",
                    nameof(AllowedDomains));
            }
        }

        foreach (var entry in AllowedNetworks)
        {
            if (!AddressPolicy.TryParseNetwork(entry, out var network))
            {
                throw new ArgumentException(
                    $"'{entry}' is not a CIDR range such as 10.1.2.0/24 (address bits beyond the prefix must be zero).",
                    nameof(AllowedNetworks));
            }

            // A /0 would switch the private-address block off entirely, which is never what "an internal server" means.
            if (network.PrefixLength == 0)
            {
                throw new ArgumentException($"'{entry}' would allow every address; list the internal ranges instead.", nameof(AllowedNetworks));
            }
        }
    }
}
