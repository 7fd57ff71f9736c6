using System.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace MmServe.Api.Grpc.Binding;

/// <summary>
/// Binds every gRPC service the way Grpc.AspNetCore's own binder does — through the generated static BindService
/// method named by [BindServiceMethod] — but with each request marshaller wrapped by
/// <see cref="GuardedRequestMarshaller"/>. Registered in place of Grpc.AspNetCore's binder (see
/// <see cref="GrpcHostingExtensions"/>), so it covers mmserve.v1 as well as grpc.health.v1 and reflection.
/// </summary>
internal sealed class GuardedServiceMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        if (FindBindMethod() is not { } bind)
        {
            return;
        }

        // BindService(ServiceBinderBase binder, TServiceBase serviceImpl): with a null implementation it only
        // describes the methods; the binder creates invokers on TService itself.
        var binder = new GuardedServiceBinder<TService>(context, bind.GetParameters()[1].ParameterType);
        bind.Invoke(null, [binder, null]);
    }

    private static MethodInfo? FindBindMethod()
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } attribute)
            {
                return attribute.BindType.GetMethod(
                    attribute.BindMethodName,
                    BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic,
                    binder: null,
                    [typeof(ServiceBinderBase), type],
                    modifiers: null);
            }
        }

        return null;
    }
}
