using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace MmServe.Gateway.Forwarding;

/// <summary>
/// YARP's default header copying, plus: a worker's "not now" answer (503, or a gRPC UNAVAILABLE without a body — a
/// draining worker) is held back instead of copied while a retry is still possible; a gRPC stream that broke after
/// it started ends with grpc-status UNAVAILABLE; and, when Gateway:WorkerHeader is set, X-MmServe-Worker names the
/// worker that answered.
/// </summary>
internal sealed class GatewayTransformer : HttpTransformer
{
    public const string WorkerHeaderName = "X-MmServe-Worker";

    public static readonly HttpRequestOptionsKey<ForwardingAttempt> AttemptOption = new("MmServe.Gateway.Attempt");

    public static GatewayTransformer Instance { get; } = new();

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        if (httpContext.Features.Get<ForwardingAttempt>() is { } attempt)
        {
            proxyRequest.Options.Set(AttemptOption, attempt);
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var attempt = httpContext.Features.Get<ForwardingAttempt>();
        if (proxyResponse is not null && attempt is { CanRetry: true } && IsNotNow(proxyResponse, attempt.Grpc))
        {
            attempt.HeldBackStatus = (int)proxyResponse.StatusCode;
            return false;
        }

        bool copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        if (proxyResponse is not null && attempt is { WorkerHeader: true })
        {
            httpContext.Response.Headers[WorkerHeaderName] = attempt.Worker.Name;
        }

        return copyBody;
    }

    public override async ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken)
    {
        await base.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        if (httpContext.Features.Get<ForwardingAttempt>() is { Grpc: true, StreamFailure: not null }
            && httpContext.Features.Get<IHttpResponseTrailersFeature>() is { } trailers)
        {
            var error = GatewayError.StreamBroke();
            trailers.Trailers[GatewayError.GrpcStatusHeader] = error.GrpcStatus.ToString(System.Globalization.CultureInfo.InvariantCulture);
            trailers.Trailers[GatewayError.GrpcMessageHeader] = Uri.EscapeDataString(error.Message);
        }
    }

    private static bool IsNotNow(HttpResponseMessage response, bool grpc) => grpc
        ? response.StatusCode == HttpStatusCode.OK
            && response.Headers.TryGetValues(GatewayError.GrpcStatusHeader, out var status)
            && status.FirstOrDefault() == GatewayError.GrpcUnavailable
        : response.StatusCode == HttpStatusCode.ServiceUnavailable;
}
