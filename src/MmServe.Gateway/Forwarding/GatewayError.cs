using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MmServe.Gateway.Forwarding;

/// <summary>
/// An answer the gateway gives itself, in the workers' shapes: OpenAI's error JSON with an HTTP status on REST, a
/// trailers-only gRPC status on gRPC, and an OpenAI-style error event ending an SSE stream that broke.
/// </summary>
internal sealed record GatewayError(int HttpStatus, int GrpcStatus, string Type, string Code, string Message)
{
    public const string GrpcStatusHeader = "grpc-status";
    public const string GrpcMessageHeader = "grpc-message";
    public const string GrpcUnavailable = "14";

    private const string ServerError = "server_error";

    /// <summary>Sent as Retry-After (seconds) on REST.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static GatewayError NoWorker(string? model) => new(
        StatusCodes.Status503ServiceUnavailable, 14, ServerError, "no_worker_available",
        model is null
            ? "No worker is ready to take this request; retry later."
            : $"No worker serving the model '{model}' is ready to take this request; retry later.")
    { RetryAfterSeconds = 1 };

    public static GatewayError WorkerFailed() => new(
        StatusCodes.Status502BadGateway, 14, ServerError, "worker_failed",
        "The worker failed before answering and no other worker could take the request; retry it.");

    public static GatewayError WorkerTimedOut() => new(
        StatusCodes.Status504GatewayTimeout, 14, ServerError, "worker_timeout",
        "The worker sent nothing for longer than Gateway:Forwarding:ActivityTimeout.");

    public static GatewayError StreamBroke() => new(
        StatusCodes.Status502BadGateway, 14, ServerError, "worker_failed",
        "The worker serving this stream failed; the answer is incomplete. Retry the request.");

    public static GatewayError TooLarge(long limit) => new(
        StatusCodes.Status413PayloadTooLarge, 8, "invalid_request_error", "request_too_large",
        $"The request body is too large; the limit is {limit} bytes.");

    /// <summary>The SSE event that ends a stream whose worker failed: <c>data: {"error": {...}}</c> and a blank line.</summary>
    public static byte[] StreamBrokeEvent { get; } = [.. "data: "u8, .. StreamBroke().ToJson(), .. "\n\n"u8];

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(
        new ErrorResponse(new ErrorBody(Message, Type, null, Code)), GatewayJsonContext.Default.ErrorResponse);

    /// <summary>Writes this error as the response, unless the response has started (then there is nothing left to say).</summary>
    public async Task WriteAsync(HttpContext context, bool grpc)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.Clear();
        if (grpc)
        {
            // Trailers-only: the status travels in the headers of an empty 200 response, as gRPC servers send it.
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers[GrpcStatusHeader] = GrpcStatus.ToString(CultureInfo.InvariantCulture);
            response.Headers[GrpcMessageHeader] = Uri.EscapeDataString(Message);
            return;
        }

        response.StatusCode = HttpStatus;
        if (RetryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        response.ContentType = "application/json";
        try
        {
            await response.Body.WriteAsync(ToJson(), context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client is gone.
        }
    }
}

internal sealed record ErrorResponse(ErrorBody Error);

internal sealed record ErrorBody(string Message, string Type, string? Param, string Code);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
