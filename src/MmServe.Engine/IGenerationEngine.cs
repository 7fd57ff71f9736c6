using MmServe.Abstractions;

namespace MmServe.Engine;

/// <summary>Continuous-batching text generation over one or more model executors.</summary>
public interface IGenerationEngine
{
    /// <summary>Shape of the served model (vocabulary, context window, hidden size).</summary>
    ExecutorInfo ModelInfo { get; }

    /// <summary>
    /// Validates and queues a request. Never throws for bad input or overload: such requests come back with
    /// <see cref="GenerationHandle.Rejection"/> set. Cancelling <paramref name="ct"/> (client disconnect) stops the
    /// request and frees its model slot within one engine step.
    /// </summary>
    ValueTask<GenerationHandle> SubmitAsync(GenerationRequest request, CancellationToken ct = default);

    EngineStats Stats { get; }

    /// <summary>
    /// Shutdown's last step: every request queued or generating ends within one engine step with
    /// <see cref="FinishReason.Abort"/> (the text so far stays), and later submissions are refused as Unavailable.
    /// </summary>
    void StopGenerating()
    {
    }
}
