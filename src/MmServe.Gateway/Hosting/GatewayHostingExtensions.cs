using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using MmServe.Gateway.Discovery;
using MmServe.Gateway.Forwarding;
using MmServe.Gateway.Health;
using MmServe.Gateway.Options;
using MmServe.Gateway.Routing;
using MmServe.Gateway.Telemetry;
using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Hosting;

/// <summary>What Program.cs wires up: options, discovery, monitoring, routing, the forwarder, health and telemetry.</summary>
internal static class GatewayHostingExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.SectionName, b => b.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();

        // Draining on SIGTERM: /health/ready turns unhealthy, Kestrel stops accepting and lets the requests in flight
        // (streams included) finish for up to Gateway:ShutdownTimeout.
        services.AddOptions<HostOptions>()
            .Configure<IOptions<GatewayOptions>>((host, gateway) => host.ShutdownTimeout = gateway.Value.ShutdownTimeout);
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, ListenerBinder>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<WorkerPool>();
        services.AddSingleton<IDnsResolver, SystemDnsResolver>();
        services.AddSingleton<IWorkerSource>(sp =>
        {
            var gateway = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return string.IsNullOrWhiteSpace(gateway.Dns.Name)
                ? new StaticWorkerSource(gateway.Workers)
                : new DnsWorkerSource(sp.GetRequiredService<IDnsResolver>(), gateway.Dns);
        });
        services.AddHostedService<WorkerDiscoveryService>();
        services.AddHostedService<WorkerMonitor>();

        services.AddSingleton(sp => new AffinityTable(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Routing.AffinityCapacity));
        services.AddSingleton(sp => new RoutingPolicy(
            sp.GetRequiredService<IOptions<GatewayOptions>>(), sp.GetRequiredService<AffinityTable>(), sp.GetRequiredService<TimeProvider>()));
        services.AddHttpForwarder();
        services.AddSingleton<ForwarderClient>();
        services.AddSingleton<GatewayForwarder>();

        services.AddHealthChecks().AddCheck<WorkersReadyHealthCheck>("workers", tags: [WorkersReadyHealthCheck.ReadyTag]);
        services.AddGatewayTelemetry(builder.Configuration);
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.MapGatewayTelemetry();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(WorkersReadyHealthCheck.ReadyTag) });
        var forwarder = app.Services.GetRequiredService<GatewayForwarder>();
        app.Map("/{**path}", forwarder.InvokeAsync);
        return app;
    }
}
