using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using MmServe.Gateway.Options;
using Yarp.ReverseProxy.Forwarder;

namespace MmServe.Gateway.Forwarding;

/// <summary>
/// The one outgoing client of the forwarder (as YARP's ForwarderHttpClientFactory builds it: no proxy, redirects,
/// decompression or cookies; W3C trace context re-injected for the gateway's own span, so the worker continues the
/// client's trace) and the two request configurations: REST over HTTP/1.1, gRPC over HTTP/2 only (h2c to the
/// workers' gRPC port). Both raise YARP's 100 s activity timeout (Forwarding:ActivityTimeout) for long prefills.
/// </summary>
internal sealed class ForwarderClient : IDisposable
{
    public ForwarderClient(IOptions<GatewayOptions> options)
    {
        var forwarding = options.Value.Forwarding;
        var sockets = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = forwarding.ConnectTimeout,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        };
        Invoker = new HttpMessageInvoker(new StreamGuardHandler(sockets), disposeHandler: true);
        Rest = new ForwarderRequestConfig
        {
            ActivityTimeout = forwarding.ActivityTimeout,
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        Grpc = new ForwarderRequestConfig
        {
            ActivityTimeout = forwarding.ActivityTimeout,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public HttpMessageInvoker Invoker { get; }

    public ForwarderRequestConfig Rest { get; }

    public ForwarderRequestConfig Grpc { get; }

    public void Dispose() => Invoker.Dispose();
}
