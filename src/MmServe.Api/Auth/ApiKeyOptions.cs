namespace MmServe.Api.Auth;

/// <summary>
/// Configuration section "Auth". API keys are off until a key is configured (in <see cref="ApiKeys"/>, in the file
/// <see cref="ApiKeysFile"/> names, or both); then every request must carry one, except on <see cref="AnonymousPaths"/>.
/// An entry is <c>KEY</c> or <c>NAME KEY</c>; KEY may be <c>sha256:&lt;64 hex digits&gt;</c>, the key's SHA-256, so
/// the configuration need not hold the key itself. The name is what logs and per-key rate limits use.
/// </summary>
internal sealed class ApiKeyOptions
{
    public const string SectionName = "Auth";

    /// <summary>Paths that answer without a key when <see cref="AnonymousPaths"/> is not set.</summary>
    public static readonly IReadOnlyList<string> DefaultAnonymousPaths =
        ["/health", "/metrics", "/load", "/swagger", "/grpc.health.v1.Health"];

    /// <summary>Keys (or <c>NAME KEY</c> entries) given in configuration.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>A file with one entry per line (blank lines and lines starting with # are skipped): a mounted Kubernetes Secret.</summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>
    /// Path prefixes (whole segments) that need no key. null: <see cref="DefaultAnonymousPaths"/> — the probes, the
    /// Prometheus scrape, the gateway's load poll, Swagger UI (a browser cannot send a key for the page itself; its
    /// Authorize button sends one with every call it makes) and grpc.health.v1.
    /// </summary>
    public List<string>? AnonymousPaths { get; set; }

    /// <summary>Shortest raw key accepted: a short key can be guessed, and the server has no lockout.</summary>
    public const int MinKeyLength = 16;

    public bool Enabled => ApiKeys.Count > 0 || !string.IsNullOrWhiteSpace(ApiKeysFile);

    public IReadOnlyList<string> EffectiveAnonymousPaths => AnonymousPaths ?? DefaultAnonymousPaths;
}
