using MmServe.Api.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace MmServe.Api.Auth;

/// <summary>
/// API keys, off by default: with no key configured none of this is registered and the pipeline is as before. With
/// keys, ASP.NET Core authentication (<see cref="ApiKeyAuthenticationHandler"/>) and a fallback authorization policy
/// (<see cref="AnonymousPathsOrApiKey"/>) cover every request — REST, gRPC (reflection included), unknown URLs —
/// except the anonymous paths.
/// </summary>
internal static class ApiKeyAuthExtensions
{
    public static IServiceCollection AddMmServeApiKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiKeyOptions>()
            .BindStrictly(ApiKeyOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiKeyOptions>, ApiKeyOptionsValidator>();

        // Whether keys are on decides which services and middleware exist, so it is read from configuration here; the
        // keys themselves are validated at start (the options above) and loaded once.
        var options = configuration.GetSection(ApiKeyOptions.SectionName).Get<ApiKeyOptions>() ?? new ApiKeyOptions();
        if (!options.Enabled)
        {
            return services;
        }

        services.AddSingleton(sp => ApiKeyLoader.Load(
                sp.GetRequiredService<IOptions<ApiKeyOptions>>().Value, sp.GetRequiredService<IHostEnvironment>().ContentRootPath).Store
            ?? throw new InvalidOperationException("The API keys did not load; the options validation reports why."));
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName)
            .AddRequirements(new AnonymousPathsOrApiKey(options.EffectiveAnonymousPaths))
            .Build());
        return services;
    }

    /// <summary>Whether keys are required (Swagger documents the scheme only then).</summary>
    public static bool ApiKeysEnabled(this IServiceProvider services) => services.GetService<ApiKeyStore>() is not null;

    public static WebApplication UseMmServeApiKeys(this WebApplication app)
    {
        if (app.Services.ApiKeysEnabled())
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }

        return app;
    }
}
