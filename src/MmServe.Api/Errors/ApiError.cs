using MmServe.Serving.Errors;

namespace MmServe.Api.Errors;

/// <summary>
/// An error as the REST API sends it: the HTTP status plus OpenAI's error fields. Errors of the serving layer come
/// through <see cref="From"/>; the rest are the HTTP edge's own (JSON shape, routing, body size).
/// </summary>
internal sealed record ApiError(int StatusCode, string Message, string Type, string? Param = null, string? Code = null)
{
    public const string InvalidRequestType = "invalid_request_error";
    public const string RateLimitType = "rate_limit_error";
    public const string ServerErrorType = "server_error";

    /// <summary>OpenAI's error type of a 429 for the requests-per-minute limit.</summary>
    public const string RequestsLimitType = "requests";

    /// <summary>OpenAI's error type of a 429 for the tokens-per-minute limit.</summary>
    public const string TokensLimitType = "tokens";

    public const string RateLimitExceededCode = "rate_limit_exceeded";

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

    /// <summary>A string (or, with <paramref name="propertyName"/>, a property name) that is not valid UTF-8 text.</summary>
    public static ApiError InvalidUtf8(string? param, bool propertyName = false)
    {
        var what = (param, propertyName) switch
        {
            (null, true) => "A property name of the request body",
            (null, false) => "The request body",
            (_, true) => $"A property name in '{param}'",
            _ => $"'{param}'",
        };
        return InvalidRequest(
            $"{what} is not valid UTF-8: it holds a byte sequence that is not UTF-8 or a \\u escape of an unpaired surrogate. Send JSON text encoded as UTF-8.",
            param,
            "invalid_utf8");
    }

    public static ApiError Missing(string param) =>
        InvalidRequest($"Missing required parameter: '{param}'.", param, "missing_required_parameter");

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

    /// <summary>401 for a request without a key when keys are required (OpenAI: invalid_request_error).</summary>
    public static ApiError MissingApiKey() => new(
        StatusCodes.Status401Unauthorized,
        "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY), or in the x-api-key header.",
        InvalidRequestType,
        Code: "missing_api_key");

    /// <summary>401 for a key that is not one of the server's; the key is never echoed (it would land in client logs).</summary>
    public static ApiError InvalidApiKey() => new(
        StatusCodes.Status401Unauthorized,
        "Incorrect API key provided. Check the key sent in the Authorization (Bearer) or x-api-key header.",
        InvalidRequestType,
        Code: "invalid_api_key");

    /// <summary>429 for the requests-per-minute limit, as OpenAI words it.</summary>
    public static ApiError RequestsRateLimited(string message, TimeSpan? retryAfter) => new(
        StatusCodes.Status429TooManyRequests, message, RequestsLimitType, Code: RateLimitExceededCode) { RetryAfter = retryAfter };

    /// <summary>For statuses the API does not produce itself (e.g. Kestrel's 408 or 431).</summary>
    public static ApiError FromStatus(int status) => status >= 500
        ? new(status, "The server could not process the request.", ServerErrorType)
        : new(status, "The request could not be processed.", InvalidRequestType);

    public static ApiError Internal(string requestId) => From(ServingError.Internal(requestId));

    /// <summary>The one mapping of the serving layer's errors to HTTP: status and OpenAI error type by kind.</summary>
    public static ApiError From(ServingError error) => error.Kind switch
    {
        ServingErrorKind.InvalidRequest or ServingErrorKind.InputUnavailable =>
            new(StatusCodes.Status400BadRequest, error.Message, InvalidRequestType, error.Param, error.Code),
        ServingErrorKind.ModelNotFound => new(StatusCodes.Status404NotFound, error.Message, InvalidRequestType, error.Param, error.Code),
        ServingErrorKind.TooLarge => new(StatusCodes.Status413PayloadTooLarge, error.Message, InvalidRequestType, error.Param, error.Code),
        ServingErrorKind.Overloaded => new(StatusCodes.Status429TooManyRequests, error.Message, RateLimitType, error.Param, error.Code) { RetryAfter = error.RetryAfter },

        // The serving layer limits only tokens (admission needs the prompt's length); request rates are the edge's own.
        ServingErrorKind.RateLimited => new(StatusCodes.Status429TooManyRequests, error.Message, TokensLimitType, error.Param, error.Code) { RetryAfter = error.RetryAfter },
        ServingErrorKind.Unavailable => new(StatusCodes.Status503ServiceUnavailable, error.Message, ServerErrorType, error.Param, error.Code) { RetryAfter = error.RetryAfter },

        // The request was cancelled by its client; nobody reads this, 499 is nginx's "client closed request".
        ServingErrorKind.Cancelled => new(499, error.Message, InvalidRequestType, error.Param, error.Code),
        _ => new(StatusCodes.Status500InternalServerError, error.Message, ServerErrorType),
    };
}
