using System.Net;

namespace MmServe.Media.Remote;

/// <summary>
/// The checks that need no network: applied to the requested URL and again to every redirect target, so a
/// refusal here means no connection was opened for that URL. Host names that resolve to reserved addresses
/// are caught later, when connecting (<see cref="GuardedConnector"/>).
/// </summary>
internal sealed class RemoteUrlPolicy(RemoteMediaOptions options, HostAllowlist allowlist, AddressPolicy addressPolicy)
{
    /// <summary>Null when the URL may be fetched; otherwise the client-safe reason it may not.</summary>
    public MediaError? Check(Uri url, bool isRedirect)
    {
        if (!url.IsAbsoluteUri)
        {
            return RemoteMediaErrors.NotAbsolute();
        }

        var schemeAllowed = url.Scheme == Uri.UriSchemeHttps || (options.AllowHttp && url.Scheme == Uri.UriSchemeHttp);
        if (!schemeAllowed)
        {
            return RemoteMediaErrors.Scheme(options.AllowHttp, isRedirect);
        }

        // Credentials in a URL would be sent to the server (and logged by proxies); no media source needs them.
        if (url.UserInfo.Length > 0)
        {
            return RemoteMediaErrors.UserInfo(isRedirect);
        }

        if (!allowlist.IsAllowed(url))
        {
            return RemoteMediaErrors.DomainNotAllowed(isRedirect);
        }

        // System.Uri has already turned numeric forms (2130706433, 0x7f.1, 017700000001) into dotted quads.
        var isIpLiteral = url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6;
        if (isIpLiteral && (!IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) || !addressPolicy.IsPermitted(address)))
        {
            return RemoteMediaErrors.AddressBlocked(isRedirect);
        }

        return null;
    }
}
