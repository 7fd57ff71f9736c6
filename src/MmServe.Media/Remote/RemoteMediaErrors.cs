namespace MmServe.Media.Remote;

/// <summary>
/// Codes carried by <see cref="MediaError.Code"/> for remote media, and the client-safe errors that use them.
/// Messages name the rule that was broken; they never echo exception text, response bodies or resolved addresses.
/// </summary>
public static class RemoteMediaErrors
{
    /// <summary>Remote media URLs are switched off (<see cref="RemoteMediaOptions.Enabled"/> is false).</summary>
    public const string DisabledCode = "remote_media_disabled";

    /// <summary>The URL (or a redirect target) breaks policy: scheme, credentials, domain or address.</summary>
    public const string ForbiddenCode = "remote_media_forbidden";

    /// <summary>The body is, or would be, larger than the caller's byte limit.</summary>
    public const string TooLargeCode = "remote_media_too_large";

    /// <summary>The whole fetch, redirects and retries included, did not finish in time.</summary>
    public const string TimeoutCode = "remote_media_timeout";

    /// <summary>The server redirected more often than <see cref="RemoteMediaOptions.MaxRedirects"/> allows.</summary>
    public const string TooManyRedirectsCode = "remote_media_too_many_redirects";

    /// <summary>The server could not be reached or answered with an error status.</summary>
    public const string FailedCode = "remote_media_failed";

    internal static MediaError Disabled() => new(DisabledCode, "Remote media URLs are not enabled on this server; send the media inline as a data: URL.");

    internal static MediaError NotAbsolute() => new(ForbiddenCode, "The media URL must be an absolute http(s) URL.");

    internal static MediaError Scheme(bool allowHttp, bool isRedirect) =>
        Forbidden(isRedirect, allowHttp ? "only http and https URLs are allowed" : "only https URLs are allowed");

    internal static MediaError UserInfo(bool isRedirect) => Forbidden(isRedirect, "URLs must not contain user credentials");

    internal static MediaError DomainNotAllowed(bool isRedirect) => Forbidden(isRedirect, "the host is not in the list of allowed domains");

    // Deliberately does not say which address: for a host name that would disclose internal DNS data.
    internal static MediaError AddressBlocked(bool isRedirect) =>
        Forbidden(isRedirect, "the host is, or resolves to, a private, loopback, link-local or otherwise reserved address");

    internal static MediaError ContentLengthTooLarge(long contentLength, long maxBytes) =>
        new(TooLargeCode, $"The remote media is {contentLength} bytes; the limit is {maxBytes} bytes.");

    internal static MediaError BodyTooLarge(long maxBytes) =>
        new(TooLargeCode, $"The remote media is larger than the limit of {maxBytes} bytes.");

    internal static MediaError Timeout(int timeoutSeconds) =>
        new(TimeoutCode, $"Fetching the remote media took longer than {timeoutSeconds} seconds.");

    internal static MediaError TooManyRedirects(int maxRedirects) => new(
        TooManyRedirectsCode,
        maxRedirects == 0
            ? "The remote server answered with a redirect; redirects are not followed."
            : $"The remote server redirected more than {maxRedirects} times.");

    internal static MediaError Status(int statusCode) =>
        new(FailedCode, $"The remote server answered with HTTP status {statusCode}.");

    internal static MediaError RedirectWithoutLocation(int statusCode) =>
        new(FailedCode, $"The remote server answered with redirect status {statusCode} but no usable Location header.");

    internal static MediaError Unreachable() => new(FailedCode, "The remote server could not be reached.");

    internal static MediaError HostNotFound() => new(FailedCode, "The host name of the media URL could not be resolved.");

    internal static MediaError SecureConnection() => new(FailedCode, "A secure (TLS) connection to the remote server could not be established.");

    internal static MediaError InvalidResponse() => new(FailedCode, "The remote server sent an invalid or incomplete HTTP response.");

    private static MediaError Forbidden(bool isRedirect, string reason) =>
        new(ForbiddenCode, isRedirect ? $"The media URL redirected to a URL that is not allowed: {reason}." : $"The media URL is not allowed: {reason}.");
}
