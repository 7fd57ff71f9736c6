using Grpc.Core;
using Grpc.Core.Interceptors;

namespace MmServe.Api.Grpc;

/// <summary>
/// The last line of defence: a call that ends in an unexpected exception answers INTERNAL with a generic message
/// and the request id (the exception goes to the log only), instead of Grpc.AspNetCore's UNKNOWN. A call that
/// ends because its client cancelled or its deadline passed ends quietly with the matching status.
/// </summary>
internal sealed partial class GrpcExceptionInterceptor(ILogger<GrpcExceptionInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

    private RpcException Translate(Exception e, ServerCallContext context)
    {
        if (e is OperationCanceledException or IOException && context.CancellationToken.IsCancellationRequested)
        {
            // Nobody is listening any more; the status only keeps the server's log free of stack traces.
            return context.Deadline <= DateTime.UtcNow
                ? new RpcException(new Status(StatusCode.DeadlineExceeded, "The deadline expired."))
                : new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }

        var requestId = context.GetHttpContext().TraceIdentifier;
        Log.Crashed(logger, context.Method, requestId, e);
        return new RpcException(new Status(
            StatusCode.Internal, $"The server had an error while processing your request. Quote request id {requestId} when reporting it."));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "gRPC call {Method} ({RequestId}) failed unexpectedly.")]
        public static partial void Crashed(ILogger logger, string method, string requestId, Exception exception);
    }
}
