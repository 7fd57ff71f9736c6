using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace MmServe.Api.Health;

/// <summary>/health/live (the process answers) and /health/ready (the model is warmed up).</summary>
internal static class HealthEndpoints
{
    public static IServiceCollection AddMmServeHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<ModelReadyHealthCheck>("model", tags: [ModelReadyHealthCheck.ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapMmServeHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ModelReadyHealthCheck.ReadyTag),
        });
        return endpoints;
    }
}
