using System.Text;

namespace MmServe.Model.Tokenization;

/// <summary>
/// A lower bound on the tokens a text becomes, from its length alone: BPE never makes a token longer than the longest
/// vocabulary entry (or added token), and when no character can be dropped or fused into one unknown token, every
/// character the model sees ends up in some token. So a text of U units (UTF-8 bytes for byte-level tokenizers, whose
/// alphabet has one character per byte; UTF-16 chars otherwise) is at least ceil(U / longest) tokens. Lets the server
/// refuse a text that cannot fit the context before spending seconds of BPE on it.
/// </summary>
internal sealed record TokenCountBound(bool CountsUtf8Bytes, int MaxUnitsPerToken)
{
    /// <summary>The bound this tokenizer guarantees, or null when it guarantees none (characters may be dropped or fused).</summary>
    public static TokenCountBound? TryCreate(HfTokenizerDefinition definition)
    {
        bool byteLevel = ContainsByteLevel(definition.PreTokenizer);
        if (!KeepsEveryCharacter(definition.PreTokenizer) || !CoversEveryCharacter(definition, byteLevel))
        {
            return null;
        }

        // Vocab entries are in the model's alphabet (one char per unit); added tokens may match plain text too.
        int longest = definition.Vocab.Keys.Select(k => k.Length)
            .Concat(definition.AddedTokens.Select(t => Math.Max(t.Content.Length, Encoding.UTF8.GetByteCount(t.Content))))
            .DefaultIfEmpty(1)
            .Max();
        return new TokenCountBound(byteLevel, Math.Max(1, longest));
    }

    /// <summary>At least this many tokens; <paramref name="normalizedText"/> as the model's normalizer leaves it.</summary>
    public long MinimumTokens(string normalizedText)
    {
        long units = CountsUtf8Bytes ? Encoding.UTF8.GetByteCount(normalizedText) : normalizedText.Length;
        return (units + MaxUnitsPerToken - 1) / MaxUnitsPerToken;
    }

    private static bool ContainsByteLevel(IPreTokenizer preTokenizer) => preTokenizer switch
    {
        ByteLevelPreTokenizer => true,
        SequencePreTokenizer sequence => sequence.Steps.Any(ContainsByteLevel),
        _ => false,
    };

    /// <summary>Splits that drop their delimiters (HF "Removed") remove text before BPE sees it; the others keep all of it.</summary>
    private static bool KeepsEveryCharacter(IPreTokenizer preTokenizer) => preTokenizer switch
    {
        SplitPreTokenizer split => split.Behavior != SplitBehavior.Removed,
        SequencePreTokenizer sequence => sequence.Steps.All(KeepsEveryCharacter),
        WholeTextPreTokenizer or MetaspacePreTokenizer or ByteLevelPreTokenizer or DigitsPreTokenizer => true,
        _ => false,
    };

    /// <summary>
    /// Every character becomes at least one token of its own: the byte-level alphabet is all in the vocab, or byte
    /// fallback has all 256 byte tokens, or each unknown character becomes its own (unfused) unknown token.
    /// </summary>
    private static bool CoversEveryCharacter(HfTokenizerDefinition definition, bool byteLevel)
    {
        var model = definition.Model;
        if (model.UnkId is not null && !model.FuseUnk)
        {
            return true;
        }

        if (byteLevel)
        {
            return Enumerable.Range(0, 256).All(b => definition.Vocab.ContainsKey(ByteLevelAlphabet.ByteToChar((byte)b).ToString()));
        }

        return model.ByteFallback && Enumerable.Range(0, 256).All(b => definition.Vocab.ContainsKey($"<0x{b:X2}>"));
    }
}
