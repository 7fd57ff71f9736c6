using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using MmServe.Gateway.Options;

namespace MmServe.Gateway.Hosting;

/// <summary>
/// REST on the hosting URLs (--urls) and gRPC on its own h2c port (Gateway:Grpc), as the worker binds them
/// (src/MmServe.Api/Grpc/GrpcEndpointBinder.cs explains why: Kestrel cannot serve HTTP/1.1 and prior-knowledge
/// HTTP/2 on one cleartext endpoint, and binds code endpoints or URLs, never both). With TLS endpoints from
/// Kestrel:Endpoints, one port serves both (ALPN), and requests are told apart by their gRPC content type.
/// </summary>
internal sealed partial class ListenerBinder(IOptions<GatewayOptions> options, IConfiguration configuration, ILogger<ListenerBinder> logger)
    : IConfigureOptions<KestrelServerOptions>
{
    private const string DefaultUrl = "http://localhost:5000";

    public void Configure(KestrelServerOptions kestrel)
    {
        var settings = options.Value;
        kestrel.Limits.MaxRequestBodySize = settings.Forwarding.MaxRequestBodyBytes;
        var grpc = settings.Grpc;
        if (!grpc.Enabled)
        {
            return;
        }

        if (!configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            var urls = HostingUrls();
            foreach (var url in urls)
            {
                Listen(kestrel, BindingAddress.Parse(url), configure: null);
            }

            Log.Binding(logger, string.Join(";", urls), grpc.Host, grpc.Port);
        }

        Listen(kestrel, BindingAddress.Parse($"http://{grpc.Host}:{grpc.Port}"), listen => listen.Protocols = HttpProtocols.Http2);
    }

    private List<string> HostingUrls()
    {
        static IEnumerable<string> Split(string? value) =>
            (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var urls = Split(configuration[WebHostDefaults.ServerUrlsKey]).ToList();
        if (urls.Count > 0)
        {
            return urls;
        }

        urls.AddRange(Split(configuration[WebHostDefaults.HttpPortsKey]).Select(port => $"http://*:{port}"));
        urls.AddRange(Split(configuration[WebHostDefaults.HttpsPortsKey]).Select(port => $"https://*:{port}"));
        return urls.Count > 0 ? urls : [DefaultUrl];
    }

    private static void Listen(KestrelServerOptions kestrel, BindingAddress url, Action<ListenOptions>? configure)
    {
        void Configure(ListenOptions listen)
        {
            if (string.Equals(url.Scheme, "https", StringComparison.OrdinalIgnoreCase))
            {
                listen.UseHttps();
            }

            configure?.Invoke(listen);
        }

        if (url.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(url.UnixPipePath, Configure);
        }
        else if (string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(url.Port, Configure);
        }
        else if (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, url.Port, Configure);
        }
        else
        {
            kestrel.ListenAnyIP(url.Port, Configure);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "REST on {Urls} and gRPC (h2c) on {GrpcHost}:{GrpcPort}; Kestrel's \"Overriding address(es)\" warning is expected.")]
        public static partial void Binding(ILogger logger, string urls, string grpcHost, int grpcPort);
    }
}
