using Microsoft.AspNetCore.Http.Features;
using MmServe.Gateway.Workers;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MmServe.Gateway.Telemetry;

/// <summary>
/// OpenTelemetry as the worker sets it up (docs/observability.md): the gateway's meter plus ASP.NET Core, HttpClient
/// and runtime instrumentation, a Prometheus scrape endpoint at /metrics, traces of incoming requests and of the
/// forwarded ones (the worker's spans continue them through traceparent), OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is
/// set. /metrics, the health probes and the gateway's own polls of the workers are left out of traces.
/// </summary>
internal static class GatewayTelemetryExtensions
{
    public const string ServiceName = "mmserve-gateway";

    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        if (!configuration.GetValue("Telemetry:Enabled", true))
        {
            return services;
        }

        services.AddSingleton<GatewayMetrics>();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? ServiceName))
            .WithMetrics(metrics => metrics
                .AddMeter(GatewayMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsInfrastructure(context.Request.Path))
                .AddHttpClientInstrumentation(options => options.FilterHttpRequestMessage = request => !request.Options.TryGetValue(WorkerMonitor.ProbeOption, out _)));
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        return services;
    }

    public static WebApplication MapGatewayTelemetry(this WebApplication app)
    {
        if (app.Services.GetService<GatewayMetrics>() is null)
        {
            return app;
        }

        app.Use((context, next) =>
        {
            if (IsInfrastructure(context.Request.Path) && context.Features.Get<IHttpMetricsTagsFeature>() is { } tags)
            {
                tags.MetricsDisabled = true;
            }

            return next(context);
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    private static bool IsInfrastructure(PathString path) =>
        path.StartsWithSegments("/metrics", StringComparison.Ordinal) || path.StartsWithSegments("/health", StringComparison.Ordinal);
}
