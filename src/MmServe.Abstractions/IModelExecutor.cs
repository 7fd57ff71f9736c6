namespace MmServe.Abstractions;

/// <summary>
/// The only way the engine talks to a model. One instance serves one engine worker thread, so implementations
/// need not be thread-safe; <see cref="Forward"/> and <see cref="Release"/> are never called concurrently.
/// </summary>
public interface IModelExecutor : IDisposable
{
    ExecutorInfo Info { get; }

    /// <summary>
    /// Runs one forward pass over a batch of prefills and decodes. The executor owns the KV state per sequence id.
    /// The caller has sized <paramref name="output"/> with <see cref="ForwardOutput.Prepare"/>; the executor fills
    /// logits row r with the logits at the LAST new token of inputs[r] and, when inputs[r].WantHiddenStates,
    /// hidden-states row r with the final hidden states of ALL its new tokens.
    /// </summary>
    /// <exception cref="OperationCanceledException">When <paramref name="ct"/> (engine shutdown) fires.</exception>
    void Forward(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct);

    /// <summary>Frees the KV slot of a finished, cancelled or failed sequence. Unknown ids are ignored.</summary>
    void Release(long sequenceId);
}

/// <summary>Creates one executor per engine worker (each worker owns its model session and KV store).</summary>
public interface IModelExecutorFactory
{
    IModelExecutor Create(int workerIndex);
}
