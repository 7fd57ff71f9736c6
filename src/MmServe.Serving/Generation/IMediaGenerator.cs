namespace MmServe.Serving.Generation;

/// <summary>
/// Turns the LLM's hidden states at an output modality's signal tokens into media (output projector →
/// generator). Thread-safe; one instance serves every request. Tests substitute it to observe cancellation.
/// </summary>
public interface IMediaGenerator
{
    /// <summary>Output modalities served, by name ("image", "audio").</summary>
    IReadOnlyDictionary<string, OutputModality> Modalities { get; }

    /// <summary>
    /// Runs one item. <paramref name="signalHiddenStates"/> holds the hidden state fed at each signal token, in
    /// signal-token order (signal tokens x hidden size). Cancelling <paramref name="ct"/> drops a queued item
    /// and terminates a run nobody else is waiting for.
    /// </summary>
    Task<GeneratedMedia> GenerateAsync(OutputModality modality, float[] signalHiddenStates, CancellationToken ct);
}
