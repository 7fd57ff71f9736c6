namespace MmServe.Abstractions;

/// <summary>
/// One row of a <see cref="IModelExecutor.Forward"/> batch: either a new sequence's whole prompt
/// (<see cref="StartPosition"/> 0, <see cref="TokenIds"/> = prompt, with <see cref="Media"/> spans) or one decode
/// token of a running sequence (<see cref="StartPosition"/> = tokens already in its KV state, one token).
/// </summary>
/// <param name="SequenceId">Engine-unique id; the executor keys its KV state on it until <see cref="IModelExecutor.Release"/>.</param>
/// <param name="TokenIds">The new tokens of this step.</param>
/// <param name="StartPosition">Position of the first new token.</param>
/// <param name="Media">Embedding spans that replace prompt tokens; empty for decode steps.</param>
/// <param name="WantHiddenStates">Also return the final hidden states of all new tokens.</param>
public sealed partial record SequenceInput(
    long SequenceId,
    ReadOnlyMemory<int> TokenIds,
    int StartPosition,
    IReadOnlyList<MediaEmbedding> Media,
    bool WantHiddenStates = false)
{
    /// <summary>
    /// The sequence's own positions (M-RoPE), the same object on every step; null means position = token index.
    /// </summary>
    public SequencePositions? Positions { get; init; }
}
