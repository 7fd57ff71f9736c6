using Microsoft.Extensions.Diagnostics.HealthChecks;
using MmServe.Serving;

namespace MmServe.Api.Health;

/// <summary>Healthy once the model's warm-up generation has finished, until shutdown begins.</summary>
internal sealed class ModelReadyHealthCheck(ModelReadiness readiness) : IHealthCheck
{
    public const string ReadyTag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.IsReady
            ? HealthCheckResult.Healthy("The model is loaded and warmed up.")
            : HealthCheckResult.Unhealthy("The model is still warming up, or the server is shutting down."));
}
