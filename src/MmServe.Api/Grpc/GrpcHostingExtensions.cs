using MmServe.Api.Hosting;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using MmServe.Api.Grpc.Binding;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using MmServe.Api.Health;
using MmServe.Serving;

namespace MmServe.Api.Grpc;

/// <summary>The gRPC API in the same host as REST: its h2c endpoint, services, grpc.health.v1 and reflection.</summary>
internal static class GrpcHostingExtensions
{
    public static IServiceCollection AddMmServeGrpc(this IServiceCollection services)
    {
        services.AddOptions<GrpcOptions>()
            .BindStrictly(GrpcOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GrpcOptions>, GrpcOptionsValidator>();
        services.AddSingleton<GrpcListenAddress>();
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, GrpcEndpointBinder>();

        services.AddGrpc(options =>
        {
            options.Interceptors.Add<GrpcExceptionInterceptor>();
            options.EnableDetailedErrors = false;
        });
        UseGuardedBinding(services);

        // Raw media bytes make messages large: the bound is the REST body limit unless set on its own.
        services.AddOptions<GrpcServiceOptions>()
            .Configure<IOptions<GrpcOptions>, IOptions<LimitsOptions>>((service, grpc, limits) =>
                service.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, grpc.Value.MaxReceiveMessageBytes ?? limits.Value.MaxRequestBodyBytes));

        services.AddGrpcReflection();

        // grpc.health.v1: the overall service ("") and mmserve.v1.ChatService are SERVING once the model is warmed up
        // and NOT_SERVING before that and while draining, exactly like /health/ready.
        services.AddGrpcHealthChecks(options =>
        {
            options.Services.Map("", result => result.Tags.Contains(ModelReadyHealthCheck.ReadyTag));
            options.Services.Map("mmserve.v1.ChatService", result => result.Tags.Contains(ModelReadyHealthCheck.ReadyTag));
        });

        services.AddSingleton<ChatChunkMapper>();
        return services;
    }

    /// <summary>
    /// Replaces Grpc.AspNetCore's binder (its internal BinderServiceMethodProvider) with
    /// <see cref="GuardedServiceMethodProvider{TService}"/>, which binds the same methods with request marshallers that
    /// answer unparseable bytes with INVALID_ARGUMENT. Both together would bind every method twice, so a Grpc.AspNetCore
    /// that no longer registers the binder under that name stops the start instead of serving ambiguous routes.
    /// </summary>
    private static void UseGuardedBinding(IServiceCollection services)
    {
        var builtIn = services.SingleOrDefault(d =>
            d.ServiceType == typeof(IServiceMethodProvider<>) && d.ImplementationType?.Name == "BinderServiceMethodProvider`1")
            ?? throw new InvalidOperationException(
                "Grpc.AspNetCore's BinderServiceMethodProvider<> registration was not found; update GrpcHostingExtensions.UseGuardedBinding for this Grpc.AspNetCore version.");
        services.Remove(builtIn);
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(GuardedServiceMethodProvider<>));
    }

    public static WebApplication MapMmServeGrpc(this WebApplication app)
    {
        app.MapGrpcService<ChatGrpcService>();
        app.MapGrpcService<ModelGrpcService>();
        app.MapGrpcHealthChecksService();
        if (app.Services.GetRequiredService<IOptions<GrpcOptions>>().Value.EnableReflection)
        {
            app.MapGrpcReflectionService();
        }

        return app;
    }
}
