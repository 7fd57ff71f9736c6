using Microsoft.Extensions.Diagnostics.HealthChecks;
using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Health;

/// <summary>/health/ready: at least one worker takes requests, and the gateway is not shutting down.</summary>
internal sealed class WorkersReadyHealthCheck(WorkerPool pool, IHostApplicationLifetime lifetime) : IHealthCheck
{
    public const string ReadyTag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The gateway is shutting down."));
        }

        int healthy = pool.Workers.Count(w => w.Healthy);
        return Task.FromResult(healthy > 0
            ? HealthCheckResult.Healthy($"{healthy} of {pool.Workers.Count} workers take requests.")
            : HealthCheckResult.Unhealthy($"None of {pool.Workers.Count} workers takes requests."));
    }
}
