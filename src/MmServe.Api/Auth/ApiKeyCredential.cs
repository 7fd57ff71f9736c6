namespace MmServe.Api.Auth;

/// <summary>Where a client's key is read from: <c>Authorization: Bearer KEY</c> (the OpenAI SDKs; gRPC's "authorization" metadata is the same header) or <c>x-api-key: KEY</c>.</summary>
internal static class ApiKeyCredential
{
    public const string ApiKeyHeader = "x-api-key";

    /// <returns>The presented key (possibly empty: present but blank), or null when the request carries none.</returns>
    public static string? Read(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer", StringComparison.OrdinalIgnoreCase)
            && (authorization.Length == 6 || char.IsWhiteSpace(authorization[6])))
        {
            return authorization[6..].Trim();
        }

        return request.Headers.TryGetValue(ApiKeyHeader, out var apiKey) ? apiKey.ToString().Trim() : null;
    }
}
