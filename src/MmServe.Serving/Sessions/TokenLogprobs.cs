using System.Text;
using MmServe.Engine;

namespace MmServe.Serving.Sessions;

/// <summary>
/// Engine logprobs to <see cref="LogprobEntry"/>s, the same for every API. Per-token strings are built once and
/// cached; -Infinity becomes -9999 because JSON cannot carry it (and so both APIs report equal numbers).
/// </summary>
public sealed class TokenLogprobs(ServedModel model)
{
    private const float MinLogprob = -9999f;

    private readonly (string Text, int[] Bytes)?[] _tokens = new (string, int[])?[model.Tokenizer.VocabSize];

    public IReadOnlyList<LogprobEntry>? Resolve(IReadOnlyList<TokenLogprob>? logprobs) =>
        logprobs is null ? null : [.. logprobs.Select(Resolve)];

    public LogprobEntry Resolve(TokenLogprob logprob)
    {
        var (text, bytes) = Token(logprob.TokenId);
        var top = new LogprobAlternative[logprob.TopLogprobs.Count];
        for (int i = 0; i < top.Length; i++)
        {
            var alternative = logprob.TopLogprobs[i];
            var (altText, altBytes) = Token(alternative.TokenId);
            top[i] = new LogprobAlternative(alternative.TokenId, altText, altBytes, Finite(alternative.Logprob));
        }

        return new LogprobEntry(logprob.TokenId, text, bytes, Finite(logprob.Logprob), top);
    }

    private (string Text, int[] Bytes) Token(int id)
    {
        if ((uint)id >= (uint)_tokens.Length)
        {
            return ("", []);
        }

        // Benign race: two threads may build the same immutable entry.
        if (_tokens[id] is not { } entry)
        {
            var raw = model.Tokenizer.TokenBytes(id);
            entry = (Encoding.UTF8.GetString(raw), Array.ConvertAll(raw, b => (int)b));
            _tokens[id] = entry;
        }

        return entry;
    }

    private static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : MinLogprob;
}
