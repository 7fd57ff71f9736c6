namespace MmServe.Abstractions;

/// <summary>Why a sequence stopped generating.</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token or a stop string was produced.</summary>
    Stop,

    /// <summary>max_tokens was reached, or the sequence filled the model's context window.</summary>
    Length,

    /// <summary>The client cancelled (e.g. disconnected).</summary>
    Cancelled,

    /// <summary>The model failed; an error event carries the details.</summary>
    Error,

    /// <summary>
    /// The server ended it while shutting down (its drain timeout passed): the text so far is the answer. vLLM's and
    /// OpenAI-compatible servers' "abort"; gRPC reports it as UNAVAILABLE so a client retries elsewhere.
    /// </summary>
    Abort,
}
