namespace MmServe.Model.Tokenization;

/// <summary>An entry of tokenizer.json "added_tokens".</summary>
internal sealed record AddedToken(
    int Id,
    string Content,
    bool Special,
    bool SingleWord = false,
    bool LStrip = false,
    bool RStrip = false);

/// <summary>An added token found in text; [Start, End) includes whitespace absorbed by lstrip/rstrip.</summary>
internal readonly record struct AddedTokenMatch(AddedToken Token, int Start, int End);

/// <summary>
/// Finds added tokens written literally in text, leftmost first and the longest at a position (HF uses
/// Aho-Corasick with LeftmostLongest), honouring single_word, lstrip and rstrip.
/// </summary>
internal sealed class AddedTokenMatcher
{
    // Candidates by first character, longest first, so the first hit at a position is the longest.
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    // The first characters as a vectorized set: long stretches of text without any of them are skipped at once.
    private readonly System.Buffers.SearchValues<char> _firstChars;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        _firstChars = System.Buffers.SearchValues.Create([.. _byFirstChar.Keys]);
    }

    /// <summary>
    /// All matches in <paramref name="text"/>, in order and non-overlapping. With
    /// <paramref name="matchSpecial"/> false, special tokens are treated as plain text while non-special added
    /// tokens still match (HF's encode_special_tokens behaves the same).
    /// </summary>
    public List<AddedTokenMatch> FindAll(string text, bool matchSpecial)
    {
        var matches = new List<AddedTokenMatch>();
        if (_byFirstChar.Count == 0)
        {
            return matches;
        }

        var consumed = 0;
        var i = 0;
        while (i < text.Length)
        {
            var skip = text.AsSpan(i).IndexOfAny(_firstChars);
            if (skip < 0)
            {
                break;
            }

            i += skip;
            if (!_byFirstChar.TryGetValue(text[i], out var candidates)
                || FindAt(text, i, candidates, matchSpecial) is not { } token)
            {
                i++;
                continue;
            }

            var start = i;
            var end = i + token.Content.Length;
            if (token.LStrip)
            {
                // Whitespace before the token belongs to it, but not whitespace an earlier match already took.
                while (start > consumed && char.IsWhiteSpace(text[start - 1]))
                {
                    start--;
                }
            }

            if (token.RStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    end++;
                }
            }

            matches.Add(new AddedTokenMatch(token, start, end));
            consumed = end;
            i = end;
        }

        return matches;
    }

    private static AddedToken? FindAt(string text, int index, AddedToken[] candidates, bool matchSpecial)
    {
        foreach (var token in candidates)
        {
            if ((matchSpecial || !token.Special)
                && text.AsSpan(index).StartsWith(token.Content, StringComparison.Ordinal)
                && (!token.SingleWord || IsWholeWord(text, index, index + token.Content.Length)))
            {
                return token;
            }
        }

        return null;
    }

    private static bool IsWholeWord(string text, int start, int end) =>
        (start == 0 || !IsWordChar(text[start - 1])) && (end == text.Length || !IsWordChar(text[end]));

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
