using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Model.Chat;

namespace MmServe.Serving.Sessions;

/// <summary>
/// A visual-expert decoder's (CogVLM's) per-prompt inputs: the expert type on the placeholder runs of the manifest's
/// expert modalities, text type elsewhere, and the positions of <see cref="VisualExpertSpec.Positions"/>.
/// </summary>
public static class VisualExpertPrompt
{
    /// <summary>The prompt with its token types (and, for "cogvlm2", positions); unchanged for other decoders.</summary>
    public static TokenizedPrompt Apply(DecoderSpec decoder, TokenizedPrompt prompt)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(prompt);
        if (decoder.VisualExpert is not { } expert)
        {
            return prompt;
        }

        var types = new int[prompt.Ids.Length];
        Array.Fill(types, expert.TextType);
        foreach (var span in prompt.MediaSpans)
        {
            if (expert.Modalities.Contains(span.Modality))
            {
                types.AsSpan(span.Start, span.Length).Fill(expert.ExpertType);
            }
        }

        var tokenTypes = new SequenceTokenTypes(types, expert.TextType);
        return expert.Positions == VisualExpertSpec.PositionsCogVlm2
            ? prompt with { TokenTypes = tokenTypes, Positions = CogVlmPositions.Compute(types, expert.ExpertType) }
            : prompt with { TokenTypes = tokenTypes };
    }
}

/// <summary>
/// CogVLM2's build_position_ids for one unpadded prompt: position 0 for the first token; every later token advances the
/// position by one, except a token inside a run of expert tokens (not its first or last) that follows another such
/// token. So a run of n ≥ 3 expert tokens starting at position p takes p, p+1, …, p+1, p+2 (its first and last count
/// as text, the ones between share one position), and a run of 1 or 2 advances like text. Generated tokens continue
/// at the last prompt position + 1 (<see cref="SequencePositions.Delta"/>).
/// </summary>
public static class CogVlmPositions
{
    public static SequencePositions Compute(ReadOnlySpan<int> types, int expertType)
    {
        int n = types.Length;
        var positions = new long[n];
        bool previousInterior = false;
        for (int i = 0; i < n; i++)
        {
            bool interior = types[i] == expertType && i > 0 && i < n - 1 && types[i - 1] == expertType && types[i + 1] == expertType;
            if (i > 0)
            {
                positions[i] = positions[i - 1] + (interior && previousInterior ? 0 : 1);
            }

            previousInterior = interior;
        }

        long delta = n == 0 ? 0 : positions[n - 1] + 1 - n;
        return new SequencePositions(1, positions, n, delta);
    }
}
