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

        // .NET regexes see UTF-16 code units: characters outside the BMP run as one BMP stand-in of the same
        // category (see RegexSplitter). standIns lists the view positions of the stand-ins, so a view offset maps
        // back to the text by adding the stand-ins before it (matches come in order: a cursor suffices).
        char[]? view = null;
        int[]? standIns = null;
        var standInCount = 0;
        var cursor = 0;
        var source = text.AsSpan();
        var byteBuffer = ArrayPool<byte>.Shared.Rent(256);
        var charBuffer = ArrayPool<char>.Shared.Rent(256);
        try
        {
            if (source.ContainsAnyInRange('\uD800', '\uDFFF'))
            {
                view = ArrayPool<char>.Shared.Rent(text.Length);
                standIns = ArrayPool<int>.Shared.Rent(text.Length / 2 + 1);
                source = view.AsSpan(0, CodePointView(text, view, standIns, out standInCount));
            }

            var previous = 0;
            foreach (var m in regex.EnumerateMatches(source))
            {
                var start = ToText(m.Index);
                var end = ToText(m.Index + m.Length);
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
                ArrayPool<int>.Shared.Return(standIns!);
            }
        }

        int ToText(int viewOffset)
        {
            while (cursor < standInCount && standIns![cursor] < viewOffset)
            {
                cursor++;
            }

            return viewOffset + cursor;
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
    /// Writes the code-point view of <paramref name="text"/> (each surrogate pair as one stand-in) into
    /// <paramref name="view"/>, the stand-ins' view positions into <paramref name="standIns"/>; returns the length.
    /// </summary>
    private static int CodePointView(string text, char[] view, int[] standIns, out int standInCount)
    {
        var span = text.AsSpan();
        var n = 0;
        standInCount = 0;
        var i = 0;
        while (i < span.Length)
        {
            // Copy the run up to the next surrogate in one go.
            var run = span[i..].IndexOfAnyInRange('\uD800', '\uDFFF');
            run = run < 0 ? span.Length - i : run;
            span.Slice(i, run).CopyTo(view.AsSpan(n));
            n += run;
            i += run;
            if (i >= span.Length)
            {
                break;
            }

            if (char.IsSurrogatePair(text, i))
            {
                standIns[standInCount++] = n;
                view[n++] = RegexSplitter.StandIn(CharUnicodeInfo.GetUnicodeCategory(text, i));
                i += 2;
            }
            else
            {
                view[n++] = text[i++];
            }
        }

        return n;
    }
}
