using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MmServe.Model.Tokenization;

/// <summary>
/// Splitting as HF's NormalizedString.split does, with .NET regexes that behave like Rust's on code points.
/// </summary>
internal static class RegexSplitter
{
    public static List<string> Split(string text, Regex regex, SplitBehavior behavior, bool invert)
    {
        var pieces = new List<string>();
        if (text.Length == 0)
        {
            return pieces;
        }

        // (start, end, isMatch) over the whole text: gaps and matches alternate, as in HF's find_matches.
        var spans = new List<(int Start, int End, bool IsMatch)>();
        var previous = 0;
        foreach (var (start, end) in Matches(regex, text))
        {
            if (start != previous)
            {
                spans.Add((previous, start, invert));
            }

            spans.Add((start, end, !invert));
            previous = end;
        }

        if (previous != text.Length)
        {
            spans.Add((previous, text.Length, invert));
        }

        foreach (var (start, end) in Arrange(spans, behavior))
        {
            if (end > start)
            {
                pieces.Add(text[start..end]);
            }
        }

        return pieces;
    }

    private static List<(int Start, int End)> Arrange(List<(int Start, int End, bool IsMatch)> spans,
        SplitBehavior behavior)
    {
        var result = new List<(int Start, int End)>(spans.Count);
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                result.AddRange(spans.Select(s => (s.Start, s.End)));
                break;
            case SplitBehavior.Removed:
                result.AddRange(spans.Where(s => !s.IsMatch).Select(s => (s.Start, s.End)));
                break;
            case SplitBehavior.Contiguous:
            case SplitBehavior.MergedWithPrevious:
            {
                var previousMatch = false;
                foreach (var (start, end, isMatch) in spans)
                {
                    var extend = behavior == SplitBehavior.Contiguous
                        ? isMatch == previousMatch
                        : isMatch && !previousMatch;
                    if (extend && result.Count > 0)
                    {
                        result[^1] = (result[^1].Start, end);
                    }
                    else
                    {
                        result.Add((start, end));
                    }

                    previousMatch = isMatch;
                }

                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                var previousMatch = false;
                for (var i = spans.Count - 1; i >= 0; i--)
                {
                    var (start, end, isMatch) = spans[i];
                    if (isMatch && !previousMatch && result.Count > 0)
                    {
                        result[^1] = (start, result[^1].End);
                    }
                    else
                    {
                        result.Add((start, end));
                    }

                    previousMatch = isMatch;
                }

                result.Reverse();
                break;
            }
        }

        return result;
    }

    /// <summary>
    /// Match offsets of <paramref name="regex"/> in <paramref name="text"/>. .NET regexes see UTF-16 code units, so
    /// \p{L} would not match a letter outside the BMP (a surrogate pair) while Rust's regexes would. The regex
    /// therefore runs on a "code point view" where each such character is one BMP stand-in of the same Unicode
    /// category, and offsets are mapped back.
    /// </summary>
    private static IEnumerable<(int Start, int End)> Matches(Regex regex, string text)
    {
        var (view, map) = CodePointView(text);
        var matches = new List<(int, int)>();
        foreach (var m in regex.EnumerateMatches(view))
        {
            var start = m.Index;
            var end = m.Index + m.Length;
            matches.Add(map is null ? (start, end) : (map[start], map[end]));
        }

        return matches;
    }

    private static (string View, int[]? Map) CodePointView(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            return (text, null);
        }

        var view = new StringBuilder(text.Length);
        var map = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length; i++)
        {
            map.Add(i);
            if (char.IsSurrogatePair(text, i))
            {
                view.Append(StandIn(CharUnicodeInfo.GetUnicodeCategory(text, i)));
                i++;
            }
            else
            {
                view.Append(text[i]);
            }
        }

        map.Add(text.Length);
        return (view.ToString(), map.ToArray());
    }

    /// <summary>A BMP character of the given category, unlikely to appear literally in a pre-tokenizer pattern.</summary>
    internal static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u0410',
        UnicodeCategory.LowercaseLetter => '\u0430',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u05D0',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u00B2',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u00AB',
        UnicodeCategory.FinalQuotePunctuation => '\u00BB',
        UnicodeCategory.OtherPunctuation => '\u00A1',
        UnicodeCategory.MathSymbol => '\u00AC',
        UnicodeCategory.CurrencySymbol => '\u00A2',
        UnicodeCategory.ModifierSymbol => '\u00B4',
        UnicodeCategory.Format => '\u00AD',
        UnicodeCategory.PrivateUse => '\uE000',
        UnicodeCategory.OtherNotAssigned => '\u0378',
        _ => '\u00A6', // OtherSymbol (emoji) and anything else
    };
}
