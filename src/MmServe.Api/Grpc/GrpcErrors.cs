using System.Globalization;
using Grpc.Core;
using MmServe.Serving.Errors;

namespace MmServe.Api.Grpc;

/// <summary>
/// The one place where serving errors become gRPC statuses. REST maps the same <see cref="ServingError"/> values
/// (same messages, code and param), so both APIs refuse the same request the same way; code and param travel as
/// trailers so clients can tell which field was wrong. Messages never carry exception text or stack traces.
/// </summary>
internal static class GrpcErrors
{
    /// <summary>Trailer with the machine-readable reason, e.g. "missing_required_parameter", "queue_full".</summary>
    public const string CodeTrailer = "mmserve-error-code";

    /// <summary>Trailer naming the offending request field, e.g. "messages[0].content[1].media.data".</summary>
    public const string ParamTrailer = "mmserve-error-param";

    /// <summary>Standard gRPC retry pushback (milliseconds), sent with RESOURCE_EXHAUSTED for a full queue or a rate limit, and UNAVAILABLE.</summary>
    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";

    /// <summary>The one mapping of the serving layer's errors to gRPC: the status by kind, code and param as trailers.</summary>
    public static RpcException ToException(ServingError error)
    {
        var trailers = new Metadata();
        if (error.Code is { } code)
        {
            trailers.Add(CodeTrailer, code);
        }

        if (error.Param is { } param)
        {
            trailers.Add(ParamTrailer, param);
        }

        if (error.RetryAfter is { } retry)
        {
            trailers.Add(RetryPushbackTrailer, ((long)retry.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        }

        return new RpcException(new Status(ToStatusCode(error.Kind), error.Message), trailers);
    }

    public static StatusCode ToStatusCode(ServingErrorKind kind) => kind switch
    {
        ServingErrorKind.InvalidRequest => StatusCode.InvalidArgument,
        ServingErrorKind.ModelNotFound => StatusCode.NotFound,
        ServingErrorKind.InputUnavailable => StatusCode.FailedPrecondition,
        ServingErrorKind.TooLarge or ServingErrorKind.Overloaded or ServingErrorKind.RateLimited => StatusCode.ResourceExhausted,
        ServingErrorKind.Unavailable => StatusCode.Unavailable,
        ServingErrorKind.Cancelled => StatusCode.Cancelled,
        _ => StatusCode.Internal,
    };
}
