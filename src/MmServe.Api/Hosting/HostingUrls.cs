using System.Net;
using Microsoft.Extensions.Options;

namespace MmServe.Api.Hosting;

/// <summary>
/// The addresses the REST API listens on, as the web host would hand them to Kestrel: "urls" (--urls,
/// ASPNETCORE_URLS), else "http_ports" / "https_ports", else http://localhost:5000. Each is checked as it is read:
/// Kestrel's own parser accepts "htp://host:abc" (and then binds a random port on every interface), so a URL that
/// is not http(s)://host:port stops the start with one line naming the setting instead.
/// </summary>
internal static class HostingUrls
{
    private const string DefaultUrl = "http://localhost:5000";

    public static IReadOnlyList<BindingAddress> Read(IConfiguration configuration)
    {
        var urls = Split(configuration[WebHostDefaults.ServerUrlsKey]);
        if (urls.Count > 0)
        {
            return [.. urls.Select(url => Parse(url, "urls (--urls, ASPNETCORE_URLS)"))];
        }

        var ports = Split(configuration[WebHostDefaults.HttpPortsKey]).Select(port => (Url: $"http://*:{port}", Key: "http_ports (ASPNETCORE_HTTP_PORTS)"))
            .Concat(Split(configuration[WebHostDefaults.HttpsPortsKey]).Select(port => (Url: $"https://*:{port}", Key: "https_ports (ASPNETCORE_HTTPS_PORTS)")))
            .ToList();
        return ports.Count > 0 ? [.. ports.Select(p => Parse(p.Url, p.Key))] : [Parse(DefaultUrl, "urls")];
    }

    /// <param name="url">One URL of the setting.</param>
    /// <param name="key">The setting the URL came from, named in the error.</param>
    public static BindingAddress Parse(string url, string key)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            throw Invalid(key, $"'{url}' is not a URL such as http://0.0.0.0:8080");
        }

        if (address.IsUnixPipe)
        {
            return address;
        }

        if (!string.Equals(address.Scheme, "http", StringComparison.OrdinalIgnoreCase) && !string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(key, $"'{url}' is not an http:// or https:// URL");
        }

        if (address.Port is < 0 or > 65535 || !IsHost(address.Host))
        {
            throw Invalid(key, $"'{url}' does not have a valid host and port (host, IP address, * or +, then a port 0-65535)");
        }

        return address;
    }

    private static bool IsHost(string host) =>
        host is "*" or "+"
        || IPAddress.TryParse(host.Trim('[', ']'), out _)
        || Uri.CheckHostName(host) == UriHostNameType.Dns;

    private static List<string> Split(string? value) =>
        [.. (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static OptionsValidationException Invalid(string key, string reason) =>
        new(key, typeof(BindingAddress), [$"{key}: {reason}."]);
}
