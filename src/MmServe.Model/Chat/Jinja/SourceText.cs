using System.Text;
using System.Text.RegularExpressions;

namespace MmServe.Model.Chat.Jinja;

/// <summary>
/// The template after Hugging Face's preprocessing (trim_blocks, lstrip_blocks, the trailing newline, the
/// transformers-only generation tag), with a map from each remaining character back to its original offset
/// so that errors can name the line and column the author sees.
/// </summary>
internal sealed partial class SourceText
{
    private SourceText(string original, string text, int[] map)
    {
        Original = original;
        Text = text;
        this.map = map;
    }

    private readonly int[] map;

    public string Original { get; }

    public string Text { get; }

    public static SourceText Preprocess(string source)
    {
        var text = source;
        var map = Enumerable.Range(0, source.Length + 1).ToArray();
        if (text.EndsWith('\n'))
        {
            // Jinja's default keep_trailing_newline=False: one trailing newline is dropped.
            (text, map) = (text[..^1], map[..^1]);
            map[^1] = text.Length;
        }

        // lstrip_blocks: spaces and tabs before a block or comment tag at the start of a line go.
        (text, map) = Keep(text, map, LstripRegex(), m => [m.Groups[1]]);

        // trim_blocks: the first newline after a block or comment tag goes.
        (text, map) = Keep(text, map, TrimRegex(), m => [m.Groups[1]]);

        // {% generation %} / {% endgeneration %} only mark spans for transformers' assistant masks.
        (text, map) = Keep(text, map, GenerationRegex(), m =>
            (m.Groups[2].Length > 0 ? [] : new[] { m.Groups[1] })
                .Concat(m.Groups[3].Length > 0 ? [] : new[] { m.Groups[4] }));
        return new SourceText(source, text, map);
    }

    /// <summary>Where offset <paramref name="position"/> of <see cref="Text"/> was in the original, as 1-based line and column.</summary>
    public (int Line, int Column) Locate(int position)
    {
        int original = map[Math.Clamp(position, 0, map.Length - 1)];
        int line = 1, column = 1;
        for (int i = 0; i < original && i < Original.Length; i++)
        {
            if (Original[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return (line, column);
    }

    public TemplateException Error(string reason, int position, Exception? inner = null)
    {
        var (line, column) = Locate(position);
        return new TemplateException(reason, line, column, inner);
    }

    /// <summary>Replaces each match by the listed groups (in order), keeping the offset map in step.</summary>
    private static (string Text, int[] Map) Keep(string text, int[] map, Regex regex, Func<Match, IEnumerable<Group>> keep)
    {
        var builder = new StringBuilder(text.Length);
        var newMap = new List<int>(map.Length);
        int last = 0;
        foreach (Match match in regex.Matches(text))
        {
            Append(last, match.Index);
            foreach (var group in keep(match))
            {
                Append(group.Index, group.Index + group.Length);
            }

            last = match.Index + match.Length;
        }

        Append(last, text.Length);
        newMap.Add(map[text.Length]);
        return (builder.ToString(), [.. newMap]);

        void Append(int from, int to)
        {
            builder.Append(text, from, to - from);
            for (int i = from; i < to; i++)
            {
                newMap.Add(map[i]);
            }
        }
    }

    // JavaScript's multiline ^ also starts a line after \r, U+2028 and U+2029.
    [GeneratedRegex(@"(?:^|(?<=[\n\r\u2028\u2029]))[ \t]*(\{[#%-])")]
    private static partial Regex LstripRegex();

    [GeneratedRegex(@"([#%-]\})\n")]
    private static partial Regex TrimRegex();

    [GeneratedRegex(@"(\s*)\{%(-?)\s*(?:end)?generation\s*(-?)%\}(\s*)")]
    private static partial Regex GenerationRegex();
}
