using System.Globalization;
using Grpc.Core;

namespace MmServe.Api.Grpc;

/// <summary>
/// A gRPC status written by middleware, before any gRPC service runs (a missing key, a rate limit): gRPC's
/// "Trailers-Only" response — HTTP 200, content-type application/grpc and the status in the headers — which every
/// gRPC client reads as the call's status and trailers. An HTTP 401 or 429 would reach a gRPC client only as a
/// transport error with a guessed status.
/// </summary>
internal static class GrpcTrailersOnly
{
    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <param name="context">The call, not yet answered.</param>
    /// <param name="status">The status code.</param>
    /// <param name="message">Client-safe text (grpc-message, percent-encoded).</param>
    /// <param name="trailers">Extra trailers, e.g. mmserve-error-code and grpc-retry-pushback-ms.</param>
    public static Task WriteAsync(HttpContext context, StatusCode status, string message, IEnumerable<KeyValuePair<string, string>> trailers)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)status).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        foreach (var (key, value) in trailers)
        {
            response.Headers[key] = value;
        }

        return response.CompleteAsync();
    }
}
