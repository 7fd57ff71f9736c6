using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

internal static class TestOptions
{
    /// <summary>
    /// Enabled, http allowed, and 127.0.0.1 exempt from the private-address block so that the local listener is
    /// reachable; everything else (domains, redirects, retries) comes from the arguments.
    /// </summary>
    public static RemoteMediaOptions ForLocalListener(params string[] allowedDomains) => new()
    {
        Enabled = true,
        AllowHttp = true,
        AllowedDomains = allowedDomains.Length > 0 ? allowedDomains : ["127.0.0.1"],
        AllowedNetworks = ["127.0.0.1/32"],
        TimeoutSeconds = 10,
    };

    public static RemoteMediaFetcher Fetcher(RemoteMediaOptions options, FakeDns? dns = null) =>
        new(options, (dns ?? FakeDns.Of()).ResolveAsync);
}
