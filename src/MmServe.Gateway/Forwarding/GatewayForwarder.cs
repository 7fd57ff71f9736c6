using Microsoft.Extensions.Options;
using MmServe.Gateway.Options;
using MmServe.Gateway.Routing;
using MmServe.Gateway.Telemetry;
using MmServe.Gateway.Workers;
using Yarp.ReverseProxy.Forwarder;

namespace MmServe.Gateway.Forwarding;

/// <summary>
/// Every request that is not the gateway's own (/health/*, /metrics): hold the body (bounded) so it can be routed
/// and replayed, route it (<see cref="RoutingPolicy"/>), forward it with YARP's <see cref="IHttpForwarder"/>, and try
/// once more on another worker when the first one failed before any response byte reached the client (connection
/// refused or reset, 503 or gRPC UNAVAILABLE from a draining worker). A worker that failed in transport is marked
/// unhealthy until its next active health check passes (passive health).
/// </summary>
internal sealed partial class GatewayForwarder(
    IHttpForwarder forwarder,
    ForwarderClient client,
    WorkerPool pool,
    RoutingPolicy policy,
    IOptions<GatewayOptions> options,
    ILogger<GatewayForwarder> logger,
    GatewayMetrics? metrics = null)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        bool grpc = request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
        var settings = options.Value;

        BufferedBody? body = null;
        var keys = RouteKeys.None;
        if (ShouldHoldBody(request, grpc))
        {
            try
            {
                body = await BufferedBody.ReadAsync(request.Body, request.ContentLength, (int)settings.Forwarding.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BodyTooLargeException || e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                metrics?.Refused(GatewayError.TooLarge(0).Code);
                await GatewayError.TooLarge(settings.Forwarding.MaxRequestBodyBytes).WriteAsync(context, grpc).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
            {
                return; // the client went away or sent a broken body
            }

            keys = grpc
                ? request.Path.StartsWithSegments(GrpcRequestInspector.ChatServicePrefix.TrimEnd('/'), StringComparison.Ordinal) ? GrpcRequestInspector.Inspect(body.Span) : RouteKeys.None
                : MultipartRequestInspector.Handles(request.ContentType)
                    ? await MultipartRequestInspector.InspectAsync(body.OpenRead(), request.ContentType!, context.RequestAborted).ConfigureAwait(false)
                    : RestRequestInspector.Inspect(body.Span, request.ContentType);
        }

        using (body)
        {
            bool replayable = body is not null || HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
            await ForwardAsync(context, grpc, body, keys, replayable, settings).ConfigureAwait(false);
        }
    }

    private async Task ForwardAsync(HttpContext context, bool grpc, BufferedBody? body, RouteKeys keys, bool replayable, GatewayOptions settings)
    {
        Worker? failed = null;
        for (int attemptNumber = 0; ; attemptNumber++)
        {
            var decision = policy.Choose(pool.Workers, keys, grpc, failed);
            if (decision.Worker is not { } worker)
            {
                var error = failed is null ? GatewayError.NoWorker(keys.Model) : GatewayError.WorkerFailed();
                metrics?.Refused(error.Code);
                await error.WriteAsync(context, grpc).ConfigureAwait(false);
                return;
            }

            metrics?.Routed(worker, decision.Reason);
            policy.Remember(keys, worker);
            var attempt = new ForwardingAttempt(worker, grpc, canRetry: replayable && attemptNumber == 0, settings.WorkerHeader);
            context.Features.Set(attempt);
            if (body is not null)
            {
                context.Request.Body = body.OpenRead();
            }

            ForwarderError result;
            worker.Enter();
            try
            {
                result = await forwarder.SendAsync(
                    context, grpc ? worker.Address.Grpc! : worker.Address.Rest, client.Invoker, grpc ? client.Grpc : client.Rest, GatewayTransformer.Instance).ConfigureAwait(false);
            }
            finally
            {
                worker.Leave();
            }

            if (attempt.HeldBackStatus is { } status)
            {
                // The worker is draining (or not ready): it takes no new requests until its health check passes again.
                MarkUnhealthy(worker, $"it answered {status}{(grpc ? " UNAVAILABLE" : "")}");
                Log.Retrying(logger, worker.Name, $"answer {status}");
                metrics?.Retried("unavailable");
                Reset(context);
                failed = worker;
                continue;
            }

            if (result == ForwarderError.None)
            {
                if (attempt.StreamFailure is { } failure)
                {
                    MarkUnhealthy(worker, $"its stream broke: {failure.Message}");
                    metrics?.StreamBroke(grpc);
                }

                return;
            }

            var forwardError = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            if (result is ForwarderError.Request or ForwarderError.RequestBodyDestination or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination)
            {
                MarkUnhealthy(worker, $"{result}: {forwardError?.Message}");
                if (attempt.CanRetry && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
                {
                    Log.Retrying(logger, worker.Name, result.ToString());
                    metrics?.Retried("transport");
                    Reset(context);
                    failed = worker;
                    continue;
                }
            }

            if (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                var error = result == ForwarderError.RequestTimedOut ? GatewayError.WorkerTimedOut() : GatewayError.WorkerFailed();
                metrics?.Refused(error.Code);
                await error.WriteAsync(context, grpc).ConfigureAwait(false);
            }

            return;
        }
    }

    /// <summary>
    /// Bodies are held for routing and replay, except gRPC reflection's bidirectional stream (a client that waits for
    /// answers between its messages would wait forever).
    /// </summary>
    private static bool ShouldHoldBody(HttpRequest request, bool grpc) => grpc
        ? request.Path.Value?.StartsWith("/grpc.reflection.", StringComparison.Ordinal) != true
        : HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method);

    private void MarkUnhealthy(Worker worker, string reason)
    {
        if (worker.SetHealthy(false))
        {
            Log.MarkedUnhealthy(logger, worker.Name, reason);
        }
    }

    private static void Reset(HttpContext context)
    {
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Features.Set<ForwardingAttempt>(null);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Worker {Worker} is out of routing until its next health check passes: {Reason}.")]
        public static partial void MarkedUnhealthy(ILogger logger, string worker, string reason);

        [LoggerMessage(2, LogLevel.Information, "Retrying a request that failed on worker {Worker} before any response byte ({Reason}) on another worker.")]
        public static partial void Retrying(ILogger logger, string worker, string reason);
    }
}
