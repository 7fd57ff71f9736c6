using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MmServe.Model.Tokenization;

/// <summary>
/// The hot path of byte-level BPE: the usual pre-tokenizer (one regex split with behavior Isolated, then
/// ByteLevel without a prefix space: GPT-2, Llama-3, Qwen2) fused with the BPE lookups. Each piece goes from the
/// text to its byte-level form in a reused buffer and to <see cref="BpeModel.Tokenize(ReadOnlySpan{char}, List{int})"/>
/// without becoming a string, so a text of already-seen words allocates almost nothing. Gives exactly the pieces
/// of the general <see cref="IPreTokenizer"/> path (the parity fuzz tests run through here).
/// </summary>
internal sealed class ByteLevelWordSplitter(Regex regex)
{
    /// <summary>The fused form of <paramref name="preTokenizer"/>, or null when it is not the usual shape.</summary>
    public static ByteLevelWordSplitter? TryCreate(IPreTokenizer preTokenizer) => preTokenizer switch
    {
        ByteLevelPreTokenizer { AddPrefixSpace: false, UseRegex: true } => new(ByteLevelPreTokenizer.Gpt2()),
        SequencePreTokenizer
        {
            Steps: [SplitPreTokenizer { Behavior: SplitBehavior.Isolated, Invert: false } split,
                ByteLevelPreTokenizer { AddPrefixSpace: false, UseRegex: false }],
        } => new(split.Pattern),
        _ => null,
    };

    public void Tokenize(string text, BpeModel model, List<int> ids)
    {
        if (text.Length == 0)
        {
            return;
        }

        // .NET regexes see UTF-16 code units: letters outside the BMP run as BMP stand-ins of the same category
        // (see RegexSplitter), and offsets map back through map.
        char[]? view = null;
        int[]? map = null;
        var source = text.AsSpan();
        var byteBuffer = ArrayPool<byte>.Shared.Rent(256);
        var charBuffer = ArrayPool<char>.Shared.Rent(256);
        try
        {
            if (source.ContainsAnyInRange('\uD800', '\uDFFF'))
            {
                (view, map, var viewLength) = CodePointView(text);
                source = view.AsSpan(0, viewLength);
            }

            var previous = 0;
            foreach (var m in regex.EnumerateMatches(source))
            {
                var start = map is null ? m.Index : map[m.Index];
                var end = map is null ? m.Index + m.Length : map[m.Index + m.Length];
                Emit(text.AsSpan(previous, start - previous), model, ids, ref byteBuffer, ref charBuffer);
                Emit(text.AsSpan(start, end - start), model, ids, ref byteBuffer, ref charBuffer);
                previous = end;
            }

            Emit(text.AsSpan(previous), model, ids, ref byteBuffer, ref charBuffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(byteBuffer);
            ArrayPool<char>.Shared.Return(charBuffer);
            if (view is not null)
            {
                ArrayPool<char>.Shared.Return(view);
                ArrayPool<int>.Shared.Return(map!);
            }
        }
    }

    private static void Emit(ReadOnlySpan<char> piece, BpeModel model, List<int> ids, ref byte[] bytes, ref char[] chars)
    {
        if (piece.IsEmpty)
        {
            return;
        }

        var byteCount = Encoding.UTF8.GetMaxByteCount(piece.Length);
        if (bytes.Length < byteCount)
        {
            ArrayPool<byte>.Shared.Return(bytes);
            bytes = ArrayPool<byte>.Shared.Rent(byteCount);
            ArrayPool<char>.Shared.Return(chars);
            chars = ArrayPool<char>.Shared.Rent(byteCount);
        }

        var length = Encoding.UTF8.GetBytes(piece, bytes);
        for (var i = 0; i < length; i++)
        {
            chars[i] = ByteLevelAlphabet.ByteToChar(bytes[i]);
        }

        model.Tokenize(chars.AsSpan(0, length), ids);
    }

    /// <summary>
    /// The view and map of <see cref="RegexSplitter"/>, in pooled arrays: map[i] is the text offset of view
    /// char i, and map[length] == text.Length.
    /// </summary>
    private static (char[] View, int[] Map, int Length) CodePointView(string text)
    {
        var view = ArrayPool<char>.Shared.Rent(text.Length);
        var map = ArrayPool<int>.Shared.Rent(text.Length + 1);
        var n = 0;
        for (var i = 0; i < text.Length; i++, n++)
        {
            map[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                view[n] = RegexSplitter.StandIn(CharUnicodeInfo.GetUnicodeCategory(text, i));
                i++;
            }
            else
            {
                view[n] = text[i];
            }
        }

        map[n] = text.Length;
        return (view, map, n);
    }
}
