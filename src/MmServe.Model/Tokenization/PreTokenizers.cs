using System.Text;
using System.Text.RegularExpressions;

namespace MmServe.Model.Tokenization;

/// <summary>
/// One HF pre-tokenizer step: splits each current piece of text into smaller pieces (and, for ByteLevel, rewrites
/// them into the byte-level alphabet). Steps run in order over all pieces, like HF's PreTokenizedString.
/// </summary>
internal interface IPreTokenizer
{
    /// <param name="atStart">The piece begins at offset 0 of the text given to encode (Metaspace "first" needs it).</param>
    void Split(string piece, bool atStart, List<string> output);
}

/// <summary>No pre-tokenizer (Llama-2-style files): the whole normalized text is one word.</summary>
internal sealed class WholeTextPreTokenizer : IPreTokenizer
{
    public void Split(string piece, bool atStart, List<string> output)
    {
        if (piece.Length > 0)
        {
            output.Add(piece);
        }
    }
}

/// <summary>
/// HF "Metaspace" (SentencePiece-style BPE): spaces become the replacement character ("▁"), which is also
/// prepended per the scheme ("first": only to the piece at the start of the input, as HF's offsets_original
/// check does), and optionally each "▁" starts a new word.
/// </summary>
internal sealed class MetaspacePreTokenizer(string replacement, MetaspacePrepend prepend, bool split) : IPreTokenizer
{
    private readonly System.Text.RegularExpressions.Regex _replacement =
        new(System.Text.RegularExpressions.Regex.Escape(replacement));

    public void Split(string piece, bool atStart, List<string> output)
    {
        piece = piece.Replace(" ", replacement, StringComparison.Ordinal);
        var wantsPrefix = prepend == MetaspacePrepend.Always || (prepend == MetaspacePrepend.First && atStart);
        if (wantsPrefix && !piece.StartsWith(replacement, StringComparison.Ordinal))
        {
            piece = replacement + piece;
        }

        if (!split)
        {
            if (piece.Length > 0)
            {
                output.Add(piece);
            }

            return;
        }

        output.AddRange(RegexSplitter.Split(piece, _replacement, SplitBehavior.MergedWithNext, invert: false));
    }
}

/// <summary>Metaspace's prepend_scheme.</summary>
internal enum MetaspacePrepend
{
    Always,
    Never,
    First,
}

/// <summary>HF "Sequence": the steps one after another.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> steps) : IPreTokenizer
{
    public IReadOnlyList<IPreTokenizer> Steps => steps;

    public void Split(string piece, bool atStart, List<string> output)
    {
        List<string> current = [piece];
        List<string> buffer = [];
        foreach (var step in steps)
        {
            buffer.Clear();
            for (var i = 0; i < current.Count; i++)
            {
                // Only the first piece can still begin at offset 0 (empty pieces are never kept).
                step.Split(current[i], atStart && i == 0, buffer);
            }

            (current, buffer) = (buffer, current);
        }

        output.AddRange(current);
    }
}

/// <summary>
/// HF "ByteLevel": optionally prefixes a space, optionally splits with GPT-2's regex, then maps UTF-8 bytes to the
/// byte-level alphabet. Must come last among the steps that look at the text.
/// </summary>
internal sealed partial class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    public bool AddPrefixSpace => addPrefixSpace;

    public bool UseRegex => useRegex;

    public static Regex Gpt2() => Gpt2Regex();

    /// <summary>GPT-2's pre-tokenization pattern (used when use_regex is true).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public void Split(string piece, bool atStart, List<string> output)
    {
        // HF adds the prefix space to every piece it is given (hence add_prefix_space=false after a Split step).
        if (addPrefixSpace && !piece.StartsWith(' '))
        {
            piece = " " + piece;
        }

        if (!useRegex)
        {
            Add(piece, output);
            return;
        }

        foreach (var part in RegexSplitter.Split(piece, Gpt2Regex(), SplitBehavior.Isolated, invert: false))
        {
            Add(part, output);
        }
    }

    private static void Add(string piece, List<string> output)
    {
        if (piece.Length > 0)
        {
            output.Add(ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(piece)));
        }
    }

    // Backtracking engine on purpose: (?!\S) is a lookahead, which RegexOptions.NonBacktracking rejects.
    [GeneratedRegex(Gpt2Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2Regex();
}

/// <summary>HF "Split": splits on a regex or literal string, keeping or dropping the matches per the behavior.</summary>
internal sealed class SplitPreTokenizer(Regex pattern, SplitBehavior behavior, bool invert) : IPreTokenizer
{
    public Regex Pattern => pattern;

    public SplitBehavior Behavior => behavior;

    public bool Invert => invert;

    public void Split(string piece, bool atStart, List<string> output) =>
        output.AddRange(RegexSplitter.Split(piece, pattern, behavior, invert));
}

/// <summary>HF "Digits": isolates ASCII digits, each one or whole runs.</summary>
internal sealed partial class DigitsPreTokenizer(bool individualDigits) : IPreTokenizer
{
    public void Split(string piece, bool atStart, List<string> output) =>
        output.AddRange(RegexSplitter.Split(
            piece, Digit(), individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous, invert: false));

    [GeneratedRegex("[0-9]")]
    private static partial Regex Digit();
}

/// <summary>HF SplitDelimiterBehavior: what happens to the matched delimiters.</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}
