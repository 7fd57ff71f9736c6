namespace MmServe.Api.RateLimits;

/// <summary>
/// Configuration section "RateLimits", off by default (every value 0). Limits are per client — its API key, or its
/// address when keys are off — and per process: behind the gateway each worker counts on its own.
/// </summary>
internal sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>Requests a client may send per minute to /v1/* and mmserve.v1 (0: no limit).</summary>
    public int RequestsPerMinute { get; set; }

    /// <summary>Tokens (prompt + completion) a client may use per minute (0: no limit).</summary>
    public int TokensPerMinute { get; set; }

    /// <summary>Per-key overrides by key name ("RateLimits:Keys:team-a:TokensPerMinute"); an unset value inherits, 0 lifts the limit.</summary>
    public Dictionary<string, KeyRateLimitOptions> Keys { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public bool Enabled => RequestsPerMinute > 0 || TokensPerMinute > 0
        || Keys.Values.Any(k => k.RequestsPerMinute > 0 || k.TokensPerMinute > 0);

    /// <summary>The limits of one client (<see cref="RateLimitClient"/>): a key's overrides, else the defaults.</summary>
    public (int Requests, int Tokens) For(string client) =>
        RateLimitClient.KeyName(client) is { } name && Keys.TryGetValue(name, out var own)
            ? (own.RequestsPerMinute ?? RequestsPerMinute, own.TokensPerMinute ?? TokensPerMinute)
            : (RequestsPerMinute, TokensPerMinute);
}

/// <summary>One key's own limits.</summary>
internal sealed class KeyRateLimitOptions
{
    public int? RequestsPerMinute { get; set; }

    public int? TokensPerMinute { get; set; }
}
