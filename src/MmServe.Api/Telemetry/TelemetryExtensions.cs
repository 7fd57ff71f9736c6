using MmServe.Api.Hosting;
using Microsoft.AspNetCore.Http.Features;
using MmServe.Serving.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MmServe.Api.Telemetry;

/// <summary>
/// OpenTelemetry as .NET services set it up (Aspire's ServiceDefaults pattern): MmServe's meter plus ASP.NET Core,
/// HttpClient and runtime instrumentation; a Prometheus scrape endpoint at /metrics; traces of incoming and outgoing
/// HTTP and MmServe's own spans (request, media items, batched encoder and generator runs); OTLP export only when OTEL_EXPORTER_OTLP_ENDPOINT is set (OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are
/// read by the SDK). /metrics, the health probes and /load are left out of request metrics and traces.
/// </summary>
internal static class TelemetryExtensions
{
    public const string ServiceName = "mmserve";

    /// <summary>Telemetry:Enabled=false leaves OpenTelemetry out entirely (no metrics, no /metrics, no traces), for overhead measurements.</summary>
    public static IServiceCollection AddMmServeTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        if (!StrictConfiguration.GetValue(configuration, "Telemetry:Enabled", true))
        {
            return services;
        }

        services.AddSingleton<ServingMetrics>();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? ServiceName))
            .WithMetrics(metrics => metrics
                .AddMeter(ServingMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        if (TracesEnabled(configuration))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(MmServe.Abstractions.Tracing.SourceName)
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsInfrastructure(context.Request.Path))
                .AddHttpClientInstrumentation());
        }

        if (HasOtlpEndpoint(configuration))
        {
            telemetry.UseOtlpExporter();
        }

        return services;
    }

    /// <summary>
    /// Traces are recorded only when they have somewhere to go (as vLLM records them only with --otlp-traces-endpoint):
    /// an OTLP endpoint, or Telemetry:Traces=true for an exporter added in code. Without a listener no span object is
    /// made at all (every StartActivity returns null), which is what a server nobody traces should pay.
    /// Telemetry:Traces=false turns them off even with an OTLP endpoint (metrics only).
    /// </summary>
    private static bool TracesEnabled(IConfiguration configuration) =>
        StrictConfiguration.GetValue<bool?>(configuration, "Telemetry:Traces", null) ?? HasOtlpEndpoint(configuration);

    private static bool HasOtlpEndpoint(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);

    /// <summary>/metrics for Prometheus; the scrape and probe requests themselves are not counted.</summary>
    public static WebApplication MapMmServeTelemetry(this WebApplication app)
    {
        if (app.Services.GetService<ServingMetrics>() is null)
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
        path.StartsWithSegments("/metrics", StringComparison.Ordinal)
        || path.StartsWithSegments("/health", StringComparison.Ordinal)
        || path.StartsWithSegments(Health.LoadEndpoint.Path, StringComparison.Ordinal);
}
