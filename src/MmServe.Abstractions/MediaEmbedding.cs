namespace MmServe.Abstractions;

/// <summary>
/// Precomputed embeddings (e.g. a projected image) that replace the token embeddings of prompt positions
/// [<see cref="Start"/>, <see cref="Start"/> + <see cref="Length"/>), typically a run of placeholder tokens.
/// </summary>
/// <param name="Start">First replaced prompt position.</param>
/// <param name="Length">Number of replaced positions.</param>
/// <param name="Embeddings">Row-major Length x HiddenSize floats.</param>
public sealed record MediaEmbedding(int Start, int Length, ReadOnlyMemory<float> Embeddings);
