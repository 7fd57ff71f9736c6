using MmServe.Abstractions;
using MmServe.Media;

namespace MmServe.Api.Errors;

/// <summary>
/// An expected failure of an API request, as a value: the HTTP status plus OpenAI's error fields. Every error the
/// API returns is built here, so status codes, types and codes stay consistent across endpoints.
/// </summary>
internal sealed record ApiError(int StatusCode, string Message, string Type, string? Param = null, string? Code = null)
{
    public const string InvalidRequestType = "invalid_request_error";
    public const string RateLimitType = "rate_limit_error";
    public const string ServerErrorType = "server_error";

    /// <summary>Sent as Retry-After (whole seconds) when set.</summary>
    public TimeSpan? RetryAfter { get; init; }

    public OpenAiErrorResponse ToResponse() => new(new OpenAiError(Message, Type, Param, Code));

    public static ApiError InvalidRequest(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, InvalidRequestType, param, code);

    public static ApiError MalformedJson() => InvalidRequest(
        "We could not parse the JSON body of your request. Send a JSON object with the Content-Type application/json.",
        code: "invalid_json");

    public static ApiError WrongType(string? param) => param is null
        ? InvalidRequest("The request body must be a JSON object.", code: "invalid_type")
        : InvalidRequest($"Invalid type for '{param}'.", param, "invalid_type");

    public static ApiError Missing(string param) =>
        InvalidRequest($"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static ApiError ModelNotFound(string model) => new(
        StatusCodes.Status404NotFound,
        $"The model '{model}' does not exist or you do not have access to it.",
        InvalidRequestType,
        "model",
        "model_not_found");

    public static ApiError BodyTooLarge(long limit) => new(
        StatusCodes.Status413PayloadTooLarge,
        $"The request body is too large; the limit is {limit} bytes.",
        InvalidRequestType,
        Code: "request_too_large");

    public static ApiError UnknownUrl(string method, string path) => new(
        StatusCodes.Status404NotFound,
        $"Unknown request URL: {method} {path}. Please check the URL for typos.",
        InvalidRequestType,
        Code: "unknown_url");

    public static ApiError MethodNotAllowed(string method, string path) => new(
        StatusCodes.Status405MethodNotAllowed,
        $"Method {method} is not allowed for {path}.",
        InvalidRequestType,
        Code: "method_not_allowed");

    public static ApiError UnsupportedMediaType() => new(
        StatusCodes.Status415UnsupportedMediaType,
        "The request body must be JSON sent with the header Content-Type: application/json.",
        InvalidRequestType,
        Code: "unsupported_media_type");

    /// <summary>For statuses the API does not produce itself (e.g. Kestrel's 408 or 431).</summary>
    public static ApiError FromStatus(int status) => status >= 500
        ? new(status, "The server could not process the request.", ServerErrorType)
        : new(status, "The request could not be processed.", InvalidRequestType);

    public static ApiError Internal(string requestId) => new(
        StatusCodes.Status500InternalServerError,
        $"The server had an error while processing your request. Quote request id {requestId} when reporting it.",
        ServerErrorType);

    public static ApiError FromMedia(MediaError error, string param) =>
        InvalidRequest(error.Message, param, error.Code);

    public static ApiError FromEngine(EngineError error, string requestId) => error.Code switch
    {
        EngineErrorCode.InvalidRequest => InvalidRequest(error.Message, error.Param, "invalid_value"),
        EngineErrorCode.ContextLengthExceeded => InvalidRequest(error.Message, "messages", "context_length_exceeded"),
        EngineErrorCode.QueueFull => new ApiError(
            StatusCodes.Status429TooManyRequests, error.Message, RateLimitType, Code: "queue_full")
        {
            RetryAfter = TimeSpan.FromSeconds(1),
        },
        EngineErrorCode.Unavailable => new ApiError(
            StatusCodes.Status503ServiceUnavailable, error.Message, ServerErrorType, Code: "unavailable")
        {
            RetryAfter = TimeSpan.FromSeconds(5),
        },

        // The request was cancelled by its client; nobody reads this, 499 is nginx's "client closed request".
        EngineErrorCode.Cancelled => new ApiError(499, error.Message, InvalidRequestType, Code: "cancelled"),
        _ => Internal(requestId),
    };
}
