using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace MmServe.Api.Grpc;

/// <summary>
/// Adds the gRPC h2c endpoint to Kestrel. Kestrel binds either endpoints configured in code or the hosting URLs
/// (--urls, ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS), never both: once the gRPC endpoint exists in code, the
/// hosting URLs would be dropped with an "Overriding address(es)" warning. So this binds them too, the way
/// Kestrel would have (defaulting to http://localhost:5000), unless endpoints come from Kestrel:Endpoints, which
/// override the URLs anyway.
/// </summary>
internal sealed partial class GrpcEndpointBinder(
    IOptions<GrpcOptions> grpc, IConfiguration configuration, GrpcListenAddress address, ILogger<GrpcEndpointBinder> logger)
    : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions options)
    {
        var settings = grpc.Value;
        if (!settings.Enabled)
        {
            return;
        }

        if (!configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            // Checked as read: a URL Kestrel's lenient parser would take wrongly stops the start naming the setting.
            var urls = Hosting.HostingUrls.Read(configuration);
            foreach (var url in urls)
            {
                Listen(options, url, configure: null);
            }

            Log.BindingUrls(logger, string.Join(";", urls), settings.Host, settings.Port);
        }

        var grpcAddress = BindingAddress.Parse($"http://{settings.Host}:{settings.Port}");
        Listen(options, grpcAddress, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            address.Listening(listen);
        });
    }

    /// <summary>Kestrel's own reading of a URL: unix socket, localhost (IPv4 and IPv6), an IP address, or any address.</summary>
    private static void Listen(KestrelServerOptions options, BindingAddress url, Action<ListenOptions>? configure)
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
            options.ListenUnixSocket(url.UnixPipePath, Configure);
        }
        else if (string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            options.ListenLocalhost(url.Port, Configure);
        }
        else if (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip))
        {
            options.Listen(ip, url.Port, Configure);
        }
        else
        {
            // "*", "+" or a host name: Kestrel binds every interface for these too.
            options.ListenAnyIP(url.Port, Configure);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "REST on {Urls} and gRPC (h2c) on {GrpcHost}:{GrpcPort} are bound together by MmServe, so Kestrel's \"Overriding address(es)\" warning is expected and harmless.")]
        public static partial void BindingUrls(ILogger logger, string urls, string grpcHost, int grpcPort);
    }
}
