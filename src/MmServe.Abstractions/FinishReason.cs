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
}
