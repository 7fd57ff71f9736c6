namespace MmServe.Api.RateLimits;

/// <summary>
/// Who a request counts against: "key:NAME" for a request signed in with an API key, otherwise "ip:ADDRESS" (the
/// connection's address; IPv4-mapped IPv6 folded to IPv4). Behind a proxy every client shares the proxy's address
/// unless the host is set up to trust X-Forwarded-For (ASP.NET Core's forwarded-headers middleware).
/// </summary>
internal static class RateLimitClient
{
    private const string KeyPrefix = "key:";

    public static string Of(HttpContext context)
    {
        if (context.User.Identity is { IsAuthenticated: true, Name: { } name })
        {
            return KeyPrefix + name;
        }

        var address = context.Connection.RemoteIpAddress;
        if (address is { IsIPv4MappedToIPv6: true })
        {
            address = address.MapToIPv4();
        }

        return "ip:" + (address?.ToString() ?? "unknown");
    }

    /// <summary>The API key's name of a "key:" client, else null.</summary>
    public static string? KeyName(string client) =>
        client.StartsWith(KeyPrefix, StringComparison.Ordinal) ? client[KeyPrefix.Length..] : null;

    /// <summary>The paths rate limits apply to: the OpenAI API and the mmserve.v1 gRPC services (not probes, metrics, Swagger, reflection).</summary>
    public static bool IsLimited(PathString path) =>
        path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase)
        || (path.Value is { } value && value.StartsWith("/mmserve.v1.", StringComparison.Ordinal));
}
