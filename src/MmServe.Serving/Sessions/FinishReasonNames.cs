using MmServe.Abstractions;

namespace MmServe.Serving.Sessions;

/// <summary>
/// One name per finish reason for every place that writes one: OpenAI's finish_reason on REST ("stop", "length"),
/// vLLM's "abort" for a generation the server ended while shutting down, and the same words in metric labels and
/// span attributes.
/// </summary>
public static class FinishReasonNames
{
    public static string Of(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.Abort => "abort",
        FinishReason.Cancelled => "cancelled",
        FinishReason.Error => "error",
        _ => "stop",
    };

    /// <summary>"tool_calls" for an answer that ended on its own with tool calls in it, as OpenAI; otherwise <see cref="Of"/>.</summary>
    public static string Of(FinishReason reason, int toolCalls) => toolCalls > 0 && reason == FinishReason.Stop ? "tool_calls" : Of(reason);
}
