namespace MmServe.PeerBench.Workload;

/// <summary>
/// One request of the stream both arms get: the user's text, its chat prompt as ORT GenAI renders it (the server
/// renders the same text itself: GenAiParityTests), its prompt token count and how many tokens it must generate
/// (EOS ignored in both arms, so every request produces exactly <paramref name="OutputTokens"/>).
/// </summary>
internal sealed record PeerRequest(int Index, string UserText, string PromptText, int PromptTokens, int OutputTokens);
