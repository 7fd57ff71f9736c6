namespace MmServe.Abstractions;

/// <summary>Static shape facts of a model executor that the engine schedules against.</summary>
/// <param name="VocabSize">Length of one logits row.</param>
/// <param name="MaxContext">Most tokens (prompt + generated) one sequence may hold.</param>
/// <param name="MaxBatchSize">Most sequences one <see cref="IModelExecutor.Forward"/> call (and the KV store) accepts.</param>
/// <param name="HiddenSize">Width of one token's embedding / final hidden state.</param>
public sealed partial record ExecutorInfo(int VocabSize, int MaxContext, int MaxBatchSize, int HiddenSize);
