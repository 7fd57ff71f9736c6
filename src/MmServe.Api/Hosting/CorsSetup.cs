using Microsoft.Extensions.Options;

namespace MmServe.Api.Hosting;

/// <summary>Configuration section "Cors": browser origins allowed to call the API. Empty (the default): no CORS headers at all.</summary>
internal sealed class CorsOriginOptions
{
    public const string SectionName = "Cors";

    /// <summary>Origins such as "https://app.example.com", or "*" for any (safe only because the API uses no cookies: a key travels in a header the page sets).</summary>
    public List<string> Origins { get; set; } = [];
}

/// <summary>A malformed origin stops the start naming its index.</summary>
internal sealed class CorsOriginOptionsValidator : IValidateOptions<CorsOriginOptions>
{
    public ValidateOptionsResult Validate(string? name, CorsOriginOptions options)
    {
        var failures = new List<string>();
        for (int i = 0; i < options.Origins.Count; i++)
        {
            var origin = options.Origins[i];
            if (origin != "*" && !IsOrigin(origin))
            {
                failures.Add($"{CorsOriginOptions.SectionName}:Origins:{i} must be \"*\" or an origin such as https://app.example.com (scheme, host and optional port; no path) (got '{origin}').");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && !value.TrimEnd('/').EndsWith('/') && uri.Query.Length == 0 && uri.Fragment.Length == 0
        && string.IsNullOrEmpty(uri.UserInfo);
}

/// <summary>CORS only when origins are configured: a browser page on another origin then may call the API with its key.</summary>
internal static class CorsSetup
{
    /// <summary>What a page may read from responses beyond the CORS-safelisted headers.</summary>
    private static readonly string[] ExposedHeaders =
    [
        "Retry-After", "X-Request-Id",
        "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
        "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens",
    ];

    public static IServiceCollection AddMmServeCors(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CorsOriginOptions>()
            .BindStrictly(CorsOriginOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<CorsOriginOptions>, CorsOriginOptionsValidator>();
        var origins = configuration.GetSection(CorsOriginOptions.SectionName).Get<CorsOriginOptions>()?.Origins ?? [];
        if (origins.Count == 0)
        {
            return services;
        }

        services.AddCors(cors => cors.AddDefaultPolicy(policy =>
        {
            if (origins.Contains("*"))
            {
                policy.AllowAnyOrigin();
            }
            else
            {
                policy.WithOrigins([.. origins.Select(o => o.TrimEnd('/'))]);
            }

            // Any request header: the OpenAI SDKs send their own (x-stainless-*, OpenAI-Organization...).
            policy.WithMethods("GET", "POST")
                .AllowAnyHeader()
                .WithExposedHeaders(ExposedHeaders)
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
        }));
        return services;
    }

    /// <summary>Before authentication, so that a preflight (which carries no key) is answered.</summary>
    public static WebApplication UseMmServeCors(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<CorsOriginOptions>>().Value.Origins.Count > 0)
        {
            app.UseCors();
        }

        return app;
    }
}
