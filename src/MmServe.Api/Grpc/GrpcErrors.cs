using System.Globalization;
using Grpc.Core;
using MmServe.Api.Errors;

namespace MmServe.Api.Grpc;

/// <summary>
/// The one place where API errors become gRPC statuses. The REST API's <see cref="ApiError"/> values are reused
/// unchanged (same messages, same OpenAI-style code and param), so both APIs refuse the same request the same way;
/// code and param travel as trailers so clients can tell which field was wrong. Messages never carry exception
/// text or stack traces.
/// </summary>
internal static class GrpcErrors
{
    /// <summary>Trailer with the machine-readable reason, e.g. "missing_required_parameter", "queue_full".</summary>
    public const string CodeTrailer = "mmserve-error-code";

    /// <summary>Trailer naming the offending request field, e.g. "messages[0].content[1].media.data".</summary>
    public const string ParamTrailer = "mmserve-error-param";

    /// <summary>Standard gRPC retry pushback (milliseconds), sent with RESOURCE_EXHAUSTED for a full queue and UNAVAILABLE.</summary>
    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";

    /// <summary>The model declares the input modality but this server cannot decode it (e.g. video without ffmpeg).</summary>
    public const string ModalityUnavailable = "modality_unavailable";

    /// <summary>An audio container that needs ffmpeg, which this server lacks.</summary>
    public const string AudioFormatUnavailable = "audio_format_unavailable";

    public static RpcException ToException(ApiError error)
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

        return new RpcException(new Status(ToStatusCode(error), error.Message), trailers);
    }

    public static StatusCode ToStatusCode(ApiError error) => error.StatusCode switch
    {
        StatusCodes.Status400BadRequest => error.Code is ModalityUnavailable or AudioFormatUnavailable
            ? StatusCode.FailedPrecondition
            : StatusCode.InvalidArgument,
        StatusCodes.Status404NotFound => StatusCode.NotFound,
        StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests => StatusCode.ResourceExhausted,
        StatusCodes.Status503ServiceUnavailable => StatusCode.Unavailable,
        499 => StatusCode.Cancelled,
        _ => StatusCode.Internal,
    };
}
