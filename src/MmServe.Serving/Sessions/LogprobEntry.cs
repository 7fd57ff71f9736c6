namespace MmServe.Serving.Sessions;

/// <summary>A generated token's log probability with its text and bytes, and the most likely alternatives.</summary>
/// <param name="Token">The token's bytes decoded as UTF-8 (a partial character shows as U+FFFD); special tokens show their literal text.</param>
/// <param name="Bytes">The exact bytes.</param>
/// <param name="Logprob">Finite: -9999 stands for a probability that underflowed (as OpenAI reports it).</param>
public sealed record LogprobEntry(int TokenId, string Token, int[] Bytes, float Logprob, IReadOnlyList<LogprobAlternative> TopLogprobs);

/// <summary>An alternative token at the same step.</summary>
public sealed record LogprobAlternative(int TokenId, string Token, int[] Bytes, float Logprob);
