using MmServe.Abstractions;
using MmServe.Media;

namespace MmServe.Serving.Errors;

/// <summary>
/// An expected failure of a request, as a value, in no wire format: what kind of failure it is (the edges map
/// <see cref="Kind"/> to statuses), a stable machine-readable <see cref="Code"/> (OpenAI's error "code", the gRPC
/// error-code trailer), the request field to blame and a client-safe message.
/// </summary>
/// <param name="Kind">Decides the status on every edge.</param>
/// <param name="Code">null only for internal errors; e.g. "missing_required_parameter", "context_length_exceeded", "invalid_image", "queue_full".</param>
/// <param name="Message">Written for the client; never exception text.</param>
/// <param name="Param">The offending field as the client named it, e.g. "messages[0].content[1].image_url.url".</param>
public sealed record ServingError(ServingErrorKind Kind, string? Code, string Message, string? Param = null)
{
    /// <summary>When the client may retry (queue full, shutting down).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static ServingError Invalid(string message, string? param, string code) =>
        new(ServingErrorKind.InvalidRequest, code, message, param);

    public static ServingError Missing(string param) =>
        Invalid($"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static ServingError ModelNotFound(string model, string param = "model") => new(
        ServingErrorKind.ModelNotFound, "model_not_found", $"The model '{model}' does not exist or you do not have access to it.", param);

    public static ServingError InputUnavailable(string message, string param, string code) =>
        new(ServingErrorKind.InputUnavailable, code, message, param);

    /// <summary>No code: a bug has no reason a client could act on.</summary>
    public static ServingError Internal(string requestId) => new(
        ServingErrorKind.Internal,
        null,
        $"The server had an error while processing your request. Quote request id {requestId} when reporting it.");

    /// <summary>
    /// A generation the server ended while shutting down, where partial output is no answer (gRPC, generated
    /// media): the client retries on another replica.
    /// </summary>
    public static ServingError ShuttingDown() => new(ServingErrorKind.Unavailable, "unavailable", "The server is shutting down; retry the request.")
    {
        RetryAfter = TimeSpan.FromSeconds(1),
    };

    /// <summary>A media item that could not be read, decoded or fetched; its limits are client errors too.</summary>
    public static ServingError FromMedia(MediaError error, string param) => Invalid(error.Message, param, error.Code);

    /// <param name="error">The engine's refusal or failure.</param>
    /// <param name="requestId">Quoted in an internal error's message.</param>
    /// <param name="promptParam">The field named when the prompt does not fit ("messages", "prompt", "input").</param>
    public static ServingError FromEngine(EngineError error, string requestId, string promptParam = "messages") => error.Code switch
    {
        EngineErrorCode.InvalidRequest => Invalid(error.Message, error.Param, "invalid_value"),
        EngineErrorCode.ContextLengthExceeded => Invalid(error.Message, promptParam, "context_length_exceeded"),
        EngineErrorCode.QueueFull => new(ServingErrorKind.Overloaded, "queue_full", error.Message) { RetryAfter = TimeSpan.FromSeconds(1) },
        EngineErrorCode.Unavailable => new(ServingErrorKind.Unavailable, "unavailable", error.Message) { RetryAfter = TimeSpan.FromSeconds(5) },
        EngineErrorCode.Cancelled => new(ServingErrorKind.Cancelled, "cancelled", error.Message),
        _ => Internal(requestId),
    };
}
