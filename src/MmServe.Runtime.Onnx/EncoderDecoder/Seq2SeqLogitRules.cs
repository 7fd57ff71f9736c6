namespace MmServe.Runtime.Onnx.EncoderDecoder;

/// <summary>
/// Tokens a seq2seq model's generation_config never lets it generate, applied to the logits before the engine
/// samples (as transformers.js's SuppressTokensLogitsProcessor / SuppressTokensAtBeginLogitsProcessor do):
/// <see cref="Suppress"/> at every step, <see cref="BeginSuppress"/> also at the first generated token (the step
/// right after the forced start tokens, i.e. the prefill row). <see cref="ForcedFirstToken"/> (generation_config's
/// <c>forced_bos_token_id</c>, transformers.js's ForcedBOSTokenLogitsProcessor) leaves only that token possible there.
/// </summary>
public sealed record Seq2SeqLogitRules(IReadOnlyList<int> Suppress, IReadOnlyList<int> BeginSuppress)
{
    public static Seq2SeqLogitRules None { get; } = new([], []);

    public int? ForcedFirstToken { get; init; }

    internal void Apply(Span<float> logits, bool firstGenerated)
    {
        Mask(logits, Suppress);
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
