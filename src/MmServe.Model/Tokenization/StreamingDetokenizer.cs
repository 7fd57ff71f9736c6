using System.Text;
using MmServe.Abstractions;

namespace MmServe.Model.Tokenization;

/// <summary>
/// Turns generated ids into text one id at a time for streaming (SSE deltas). A byte-level token may carry only
/// part of a UTF-8 character (an emoji is often 2-4 tokens); those bytes are held back until the character is
/// complete, so every delta is valid text and the deltas concatenate to <see cref="ITextTokenizer.Decode"/> of
/// all ids. Not thread-safe: one instance per sequence.
/// </summary>
public sealed class StreamingDetokenizer(ITextTokenizer tokenizer, bool skipSpecial = true) : IIncrementalDecoder
{
    // System.Text.Decoder keeps an incomplete trailing sequence between calls and applies the same U+FFFD
    // replacement rules as Encoding.UTF8.GetString, which is what makes the deltas add up to a full decode.
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetDecoder();

    // Leading spaces still to drop, as Decode drops them from the start of the whole text.
    private int _stripLeft = tokenizer.LeadingSpacesStrippedOnDecode;

    /// <summary>Adds one id; returns the text it completes (empty while a character is still partial).</summary>
    public string Push(int tokenId)
    {
        if (skipSpecial && tokenizer.IsSpecial(tokenId))
        {
            return "";
        }

        return DecodeBytes(tokenizer.TokenBytes(tokenId), flush: false);
    }

    /// <summary>Ends the sequence: returns held-back bytes of an unfinished character as U+FFFD.</summary>
    public string Flush() => DecodeBytes([], flush: true);

    private string DecodeBytes(byte[] bytes, bool flush)
    {
        var chars = new char[_utf8.GetCharCount(bytes, 0, bytes.Length, flush)];
        var count = _utf8.GetChars(bytes, 0, bytes.Length, chars, 0, flush);
        var text = new string(chars, 0, count);
        if (_stripLeft > 0 && text.Length > 0)
        {
            var stripped = ByteLevelBpeTokenizer.StripLeadingSpaces(text, _stripLeft);
            // Spaces removed so far count against the budget; any other character ends the stripping.
            _stripLeft = stripped.Length == 0 ? _stripLeft - text.Length : 0;
            text = stripped;
        }

        return text;
    }
}
