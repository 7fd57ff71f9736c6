namespace MmServe.Model.Tokenization;

/// <summary>Text to token ids and back. Implementations are immutable after loading and safe to share across threads.</summary>
public interface ITextTokenizer
{
    /// <summary>Number of token ids: the largest id (model vocab or added token) plus one.</summary>
    int VocabSize { get; }

    /// <summary>
    /// Encodes trusted text: added/special tokens written literally (e.g. "&lt;|im_end|&gt;") become those tokens.
    /// Never adds BOS/EOS or other post-processing tokens.
    /// </summary>
    int[] Encode(string text);

    /// <summary>
    /// Encodes the concatenation of <paramref name="segments"/> exactly as one string would be encoded, except that
    /// special tokens are recognised only inside segments with <see cref="TextSegment.MatchSpecialTokens"/> set.
    /// Use it to keep untrusted text (user messages) from injecting control tokens into a prompt.
    /// </summary>
    int[] Encode(IReadOnlyList<TextSegment> segments);

    /// <summary>
    /// How many leading spaces <see cref="Decode"/> removes from the whole text (SentencePiece-style tokenizers
    /// strip the "▁" they prepended when encoding; 0 for byte-level ones). Streaming decoders must do the same.
    /// </summary>
    int LeadingSpacesStrippedOnDecode { get; }

    /// <summary>Decodes ids to text; invalid UTF-8 becomes U+FFFD and unknown ids are skipped.</summary>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecial);

    /// <summary>Id of a token given in its vocabulary form (e.g. "Ġhello" or "&lt;|im_end|&gt;"), or null.</summary>
    int? TokenToId(string token);

    /// <summary>The vocabulary form of a token id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No token has this id.</exception>
    string IdToToken(int id);

    /// <summary>Whether the id is an added token marked special (skipped by skip-special decoding).</summary>
    bool IsSpecial(int id);

    /// <summary>
    /// The raw bytes the token stands for (for byte-level BPE, often part of a UTF-8 character); an added token
    /// stands for the UTF-8 of its content. Unknown ids give an empty array.
    /// </summary>
    byte[] TokenBytes(int id);
}

/// <summary>A piece of text to encode, and whether special-token strings in it may become special tokens.</summary>
public readonly record struct TextSegment(string Text, bool MatchSpecialTokens)
{
    /// <summary>Text the server or model author wrote (chat template markup).</summary>
    public static TextSegment Trusted(string text) => new(text, true);

    /// <summary>Text from a client: special-token strings in it stay plain text.</summary>
    public static TextSegment Untrusted(string text) => new(text, false);
}
