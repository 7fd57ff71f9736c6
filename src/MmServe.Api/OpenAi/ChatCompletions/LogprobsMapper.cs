using System.Text;
using MmServe.Api.Serving;
using MmServe.Engine;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// Engine logprobs to OpenAI's shape. "token" is the token's bytes decoded as UTF-8 (a partial character shows as
/// U+FFFD, so "bytes" carries the exact value); special tokens show their literal text. Per-token strings are
/// built once and cached.
/// </summary>
internal sealed class LogprobsMapper(ServedModel model)
{
    // OpenAI reports -9999.0 for probabilities that underflow; JSON cannot carry -Infinity.
    private const float MinLogprob = -9999f;

    private readonly (string Text, int[] Bytes)?[] _tokens = new (string, int[])?[model.Tokenizer.VocabSize];

    public ChoiceLogprobs? Map(IReadOnlyList<TokenLogprob>? logprobs) =>
        logprobs is null ? null : new ChoiceLogprobs([.. logprobs.Select(Map)], null);

    public TokenLogprobEntry Map(TokenLogprob logprob)
    {
        var (text, bytes) = Token(logprob.TokenId);
        var top = new TopLogprobEntry[logprob.TopLogprobs.Count];
        for (int i = 0; i < top.Length; i++)
        {
            var alternative = logprob.TopLogprobs[i];
            var (altText, altBytes) = Token(alternative.TokenId);
            top[i] = new TopLogprobEntry(altText, Finite(alternative.Logprob), altBytes);
        }

        return new TokenLogprobEntry(text, Finite(logprob.Logprob), bytes, top);
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
