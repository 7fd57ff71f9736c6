namespace MmServe.Runtime.Onnx.EncoderDecoder;

/// <summary>
/// Tokens a seq2seq model's generation_config never lets it generate, applied to the logits before the engine
/// samples (as transformers.js's SuppressTokensLogitsProcessor / SuppressTokensAtBeginLogitsProcessor do):
/// <see cref="Suppress"/> at every step, <see cref="BeginSuppress"/> also at the first generated token (the step
/// right after the forced start tokens, i.e. the prefill row). <see cref="ForcedFirstToken"/> (generation_config's
/// <c>forced_bos_token_id</c>, transformers.js's ForcedBOSTokenLogitsProcessor) leaves only that token possible there.
/// <see cref="NoRepeatNgramSize"/> (<c>no_repeat_ngram_size</c>, NoRepeatNGramLogitsProcessor) bans every token that would
/// repeat an n-gram already in the sequence's decoder ids.
/// </summary>
public sealed record Seq2SeqLogitRules(IReadOnlyList<int> Suppress, IReadOnlyList<int> BeginSuppress)
{
    public static Seq2SeqLogitRules None { get; } = new([], []);

    public int? ForcedFirstToken { get; init; }

    /// <summary>0: off.</summary>
    public int NoRepeatNgramSize { get; init; }

    /// <param name="decoderIds">The sequence's decoder ids so far (start tokens, generated tokens), the last one this step's input.</param>
    internal void Apply(Span<float> logits, bool firstGenerated, IReadOnlyList<int> decoderIds)
    {
        Mask(logits, Suppress);
        BanRepeatedNgrams(logits, decoderIds);
        if (firstGenerated)
        {
            Mask(logits, BeginSuppress);
            if (ForcedFirstToken is int forced && (uint)forced < (uint)logits.Length)
            {
                // As transformers.js: every other logit -inf, the forced one 0.
                logits.Fill(float.NegativeInfinity);
                logits[forced] = 0;
            }
        }
    }

    /// <summary>
    /// The next token t is banned when (last n-1 ids, t) already occurs as an n-gram in <paramref name="ids"/>, as
    /// transformers.js's NoRepeatNGramLogitsProcessor computes it (nothing is banned before the ids hold n-1 tokens).
    /// </summary>
    private void BanRepeatedNgrams(Span<float> logits, IReadOnlyList<int> ids)
    {
        int n = NoRepeatNgramSize;
        int count = ids.Count;
        if (n <= 0 || count + 1 < n)
        {
            return;
        }

        int prefixStart = count - (n - 1);
        for (int start = 0; start + n <= count; start++)
        {
            bool same = true;
            for (int k = 0; k < n - 1 && same; k++)
            {
                same = ids[start + k] == ids[prefixStart + k];
            }

            int next = ids[start + n - 1];
            if (same && (uint)next < (uint)logits.Length)
            {
                logits[next] = float.NegativeInfinity;
            }
        }
    }

    private static void Mask(Span<float> logits, IReadOnlyList<int> ids)
    {
        foreach (int id in ids)
        {
            if ((uint)id < (uint)logits.Length)
            {
                logits[id] = float.NegativeInfinity;
            }
        }
    }
}
