namespace MmServe.Serving.Errors;

/// <summary>
/// The closed set of ways a request can fail above the engine. Each edge maps a kind to its own status (REST: an
/// HTTP status and OpenAI error type; gRPC: a status code), so the two APIs refuse the same request alike.
/// </summary>
public enum ServingErrorKind
{
    /// <summary>A field is missing, malformed, out of range or names something the model lacks (400 / INVALID_ARGUMENT).</summary>
    InvalidRequest,

    /// <summary>The request names a model this server does not serve (404 / NOT_FOUND).</summary>
    ModelNotFound,

    /// <summary>
    /// The model takes this input but this server cannot decode it now, e.g. video without ffmpeg: the server's
    /// state, not the request, is at fault (400 / FAILED_PRECONDITION).
    /// </summary>
    InputUnavailable,

    /// <summary>The request or one of its parts is larger than allowed (413 / RESOURCE_EXHAUSTED).</summary>
    TooLarge,

    /// <summary>The admission queue is full; retry later (429 with Retry-After / RESOURCE_EXHAUSTED with pushback).</summary>
    Overloaded,

    /// <summary>
    /// The client used up its tokens-per-minute allowance; retry after the given time, or never when the request
    /// alone exceeds the allowance (429 with Retry-After / RESOURCE_EXHAUSTED with pushback).
    /// </summary>
    RateLimited,

    /// <summary>The server is shutting down and takes no more work (503 / UNAVAILABLE).</summary>
    Unavailable,

    /// <summary>The client went away or its deadline passed; nobody reads this (499 / CANCELLED).</summary>
    Cancelled,

    /// <summary>A bug or a model failure; the message never carries exception text (500 / INTERNAL).</summary>
    Internal,
}
