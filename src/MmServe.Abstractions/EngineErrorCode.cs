namespace MmServe.Abstractions;

/// <summary>Machine-readable reason carried by <see cref="EngineError"/>; the API maps each to an HTTP status.</summary>
public enum EngineErrorCode
{
    /// <summary>A parameter is missing, malformed or out of range (HTTP 400). <see cref="EngineError.Param"/> names it.</summary>
    InvalidRequest,

    /// <summary>Prompt plus requested completion does not fit the model's context window (HTTP 400).</summary>
    ContextLengthExceeded,

    /// <summary>The bounded admission queue is full; the client should retry later (HTTP 429).</summary>
    QueueFull,

    /// <summary>The request was cancelled before it could produce a result.</summary>
    Cancelled,

    /// <summary>The engine is stopping or stopped and accepts no more work (HTTP 503).</summary>
    Unavailable,

    /// <summary>The model failed while running this request (HTTP 500). The message never carries exception text.</summary>
    Internal,
}
