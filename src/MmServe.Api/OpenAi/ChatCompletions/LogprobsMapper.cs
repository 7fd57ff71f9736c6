using MmServe.Serving.Sessions;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>The session's logprob entries in OpenAI's shape (token strings, bytes and -9999 floors are the session's).</summary>
internal sealed class LogprobsMapper
{
    public ChoiceLogprobs? Map(IReadOnlyList<LogprobEntry>? logprobs) =>
        logprobs is null ? null : new ChoiceLogprobs([.. logprobs.Select(Map)], null);

    public TokenLogprobEntry Map(LogprobEntry entry) => new(
        entry.Token,
        entry.Logprob,
        entry.Bytes,
        [.. entry.TopLogprobs.Select(t => new TopLogprobEntry(t.Token, t.Logprob, t.Bytes))]);
}
