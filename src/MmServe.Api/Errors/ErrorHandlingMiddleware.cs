using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using MmServe.Serving;

namespace MmServe.Api.Errors;

/// <summary>
/// The outermost middleware: tags every response with X-Request-Id and turns anything thrown below it into an
/// OpenAI error. Client errors are logged briefly at Information without a stack trace; only real server faults
/// are logged at Error, with the exception and the request id the client is given.
/// </summary>
internal sealed partial class ErrorHandlingMiddleware(
    RequestDelegate next,
    IOptions<LimitsOptions> limits,
    ILogger<ErrorHandlingMiddleware> logger)
{
    public const string RequestIdHeader = "X-Request-Id";

    public async Task InvokeAsync(HttpContext context)
    {
        context.Response.Headers[RequestIdHeader] = context.TraceIdentifier;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
            Log.ClientDisconnected(logger, context.TraceIdentifier);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own refusals (body too large, malformed framing, timeouts): the client's fault.
            Log.BadRequest(logger, context.TraceIdentifier, e.StatusCode);
            await TryWriteAsync(context, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? ApiError.BodyTooLarge(limits.Value.MaxRequestBodyBytes)
                : ApiError.FromStatus(e.StatusCode)).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            Log.BadRequest(logger, context.TraceIdentifier, StatusCodes.Status400BadRequest);
            await TryWriteAsync(context, ApiError.MalformedJson()).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.Unhandled(logger, context.TraceIdentifier, context.Request.Method, context.Request.Path, e);
            await TryWriteAsync(context, ApiError.Internal(context.TraceIdentifier)).ConfigureAwait(false);
        }
    }

    /// <summary>Status-code pages: gives 404 (unknown route), 405 and other empty error responses an OpenAI body.</summary>
    public static Task WriteStatusCodeBodyAsync(StatusCodeContext statusContext)
    {
        var context = statusContext.HttpContext;
        var request = context.Request;
        var error = context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => ApiError.UnknownUrl(request.Method, request.Path),
            StatusCodes.Status405MethodNotAllowed => ApiError.MethodNotAllowed(request.Method, request.Path),
            StatusCodes.Status415UnsupportedMediaType => ApiError.UnsupportedMediaType(),
            var status => ApiError.FromStatus(status),
        };
        return ApiErrorWriter.WriteAsync(context, error);
    }

    private static Task TryWriteAsync(HttpContext context, ApiError error)
    {
        if (context.Response.HasStarted)
        {
            // Mid-stream: the status line is gone already; cut the connection so the client sees a failure.
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.Clear();
        context.Response.Headers[RequestIdHeader] = context.TraceIdentifier;
        return ApiErrorWriter.WriteAsync(context, error);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Request {RequestId} ({Method} {Path}) failed with an unexpected exception.")]
        public static partial void Unhandled(ILogger logger, string requestId, string method, string path, Exception exception);

        [LoggerMessage(2, LogLevel.Information, "Request {RequestId} was refused with status {Status}.")]
        public static partial void BadRequest(ILogger logger, string requestId, int status);

        [LoggerMessage(3, LogLevel.Debug, "Request {RequestId} ended because the client disconnected.")]
        public static partial void ClientDisconnected(ILogger logger, string requestId);
    }
}
