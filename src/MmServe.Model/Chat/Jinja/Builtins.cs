using System.Text;
using System.Text.RegularExpressions;

namespace MmServe.Model.Chat.Jinja;

/// <summary>Methods and attributes of strings and mappings (<c>s.strip()</c>, <c>d.get(k)</c>, ...), as the reference defines them.</summary>
internal static partial class Builtins
{
    public static object? Dict(DictValue dict, string name) => name switch
    {
        "get" => new FunctionValue((args, _) =>
        {
            var key = args.Count > 0 ? args[0] : Undefined.Instance;
            if (key is not string k)
            {
                throw new TemplateException($"Object key must be a string: got {Values.TypeName(key)}");
            }

            return dict.Items.TryGetValue(k, out var value) ? value : args.Count > 1 ? args[1] : NoneValue.Instance;
        }),
        "items" => new FunctionValue((_, _) => Items(dict)),
        "keys" => new FunctionValue((_, _) => new ListValue([.. dict.Items.Keys])),
        "values" => new FunctionValue((_, _) => new ListValue([.. dict.Items.Values])),
        "dictsort" => new FunctionValue((args, _) => DictSort(dict, args)),
        _ => null,
    };

    public static ListValue Items(DictValue dict) =>
        new([.. dict.Items.Select(kv => (object)new ListValue([kv.Key, kv.Value]))]);

    private static ListValue DictSort(DictValue dict, List<object> args)
    {
        var keywords = args.Count > 0 && args[^1] is DictValue { Kind: DictKind.KeywordArguments } kw ? kw.Items : [];
        var positional = args.Where(a => a is not DictValue { Kind: DictKind.KeywordArguments }).ToList();
        object Arg(int i, string name, object fallback) => i < positional.Count ? positional[i] : keywords.GetValueOrDefault(name) ?? fallback;
        bool caseSensitive = Arg(0, "case_sensitive", false) as bool? ?? throw new TemplateException("case_sensitive must be a boolean");
        string by = Arg(1, "by", "key") as string ?? throw new TemplateException("by must be a string");
        bool reverse = Arg(2, "reverse", false) as bool? ?? throw new TemplateException("reverse must be a boolean");
        int index = by switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new TemplateException("by must be either 'key' or 'value'"),
        };
        return new ListValue(JsSort.Sort(Items(dict).Items, (a, b) =>
            (reverse ? -1 : 1) * Compare(((ListValue)a).Items[index], ((ListValue)b).Items[index], caseSensitive)));
    }

    /// <summary>The reference's ordering for sort and dictsort: numbers (and bools) numerically, strings (case-insensitively by default).</summary>
    public static int Compare(object a, object b, bool caseSensitive)
    {
        if ((a is NoneValue && b is NoneValue) || (a is Undefined && b is Undefined))
        {
            return 0;
        }

        if (a is NoneValue or Undefined || b is NoneValue or Undefined)
        {
            throw new TemplateException($"Cannot compare {Values.TypeName(a)} with {Values.TypeName(b)}");
        }

        if (a is long or double or bool && b is long or double or bool)
        {
            double x = a is bool ba ? (ba ? 1 : 0) : Convert.ToDouble(a, System.Globalization.CultureInfo.InvariantCulture);
            double y = b is bool bb ? (bb ? 1 : 0) : Convert.ToDouble(b, System.Globalization.CultureInfo.InvariantCulture);
            return x.CompareTo(y);
        }

        if (a is string sa && b is string sb)
        {
            // JavaScript compares UTF-16 code units, as ordinal comparison does.
            return Math.Sign(caseSensitive ? string.CompareOrdinal(sa, sb) : string.CompareOrdinal(sa.ToLowerInvariant(), sb.ToLowerInvariant()));
        }

        throw new TemplateException(Values.TypeName(a) == Values.TypeName(b)
            ? $"Cannot compare type: {Values.TypeName(a)}"
            : $"Cannot compare different types: {Values.TypeName(a)} and {Values.TypeName(b)}");
    }

    public static object? String(string s, string name) => name switch
    {
        "upper" => Method(() => Upper(s)),
        "lower" => Method(() => s.ToLowerInvariant()),
        "strip" => Method(() => s.Trim(Lexer.JsWhitespaceChars)),
        "rstrip" => Method(() => s.TrimEnd(Lexer.JsWhitespaceChars)),
        "lstrip" => Method(() => s.TrimStart(Lexer.JsWhitespaceChars)),
        "title" => Method(() => Title(s)),
        "capitalize" => Method(() => Capitalize(s)),
        "length" => (long)s.Length,
        "startswith" => new FunctionValue((args, _) => Affix(s, args, "startswith", (x, p) => x.StartsWith(p, StringComparison.Ordinal))),
        "endswith" => new FunctionValue((args, _) => Affix(s, args, "endswith", (x, p) => x.EndsWith(p, StringComparison.Ordinal))),
        "split" => new FunctionValue((args, _) => Split(s, args)),
        "replace" => new FunctionValue((args, _) => Replace(s, args)),
        _ => null,
    };

    /// <summary>
    /// JavaScript's toUpperCase: invariant upper-casing plus the one-to-many mappings of Unicode SpecialCasing that
    /// .NET leaves alone (ß becomes SS). Other context-dependent rules (e.g. final sigma in lower case) are not applied.
    /// </summary>
    public static string Upper(string s)
    {
        string upper = s.ToUpperInvariant();
        if (!upper.AsSpan().ContainsAny(SpecialUpper.Keys.ToArray()))
        {
            return upper;
        }

        var builder = new StringBuilder(upper.Length + 4);
        foreach (char c in upper)
        {
            builder.Append(SpecialUpper.TryGetValue(c, out var expansion) ? expansion : c.ToString());
        }

        return builder.ToString();
    }

    private static readonly Dictionary<char, string> SpecialUpper = new()
    {
        ['ß'] = "SS", ['ŉ'] = "ʼN", ['ǰ'] = "J̌", ['ﬀ'] = "FF", ['ﬁ'] = "FI", ['ﬂ'] = "FL", ['ﬃ'] = "FFI", ['ﬄ'] = "FFL",
        ['ﬅ'] = "ST", ['ﬆ'] = "ST",
    };

    private static FunctionValue Method(Func<string> body) => new((_, _) => body());

    /// <summary>Upper-cases the first word character after a non-word one; unlike Python it leaves the rest alone.</summary>
    public static string Title(string s) => WordStartRegex().Replace(s, m => m.Value.ToUpperInvariant());

    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static bool Affix(string s, List<object> args, string name, Func<string, string, bool> test)
    {
        if (args.Count == 0)
        {
            throw new TemplateException($"{name}() requires at least one argument");
        }

        return args[0] switch
        {
            string p => test(s, p),
            ListValue list => list.Items.Any(item => test(s, item as string ?? throw new TemplateException($"{name}() tuple elements must be strings"))),
            _ => throw new TemplateException($"{name}() argument must be a string or tuple of strings"),
        };
    }

    private static ListValue Split(string s, List<object> args)
    {
        var separator = args.Count > 0 ? args[0] : NoneValue.Instance;
        long maxSplit = args.Count > 1 ? args[1] as long? ?? throw new TemplateException("maxsplit argument must be a number") : -1;
        var result = new List<string>();
        if (separator is NoneValue)
        {
            string text = s.TrimStart(Lexer.JsWhitespaceChars);
            int i = 0;
            while (i < text.Length)
            {
                if (Lexer.IsJsWhitespace(text[i]))
                {
                    i++;
                    continue;
                }

                if (maxSplit != -1 && result.Count >= maxSplit)
                {
                    result.Add(text[i..]);
                    break;
                }

                int start = i;
                while (i < text.Length && !Lexer.IsJsWhitespace(text[i]))
                {
                    i++;
                }

                result.Add(text[start..i]);
            }
        }
        else if (separator is string sep)
        {
            if (sep.Length == 0)
            {
                throw new TemplateException("empty separator");
            }

            result = [.. s.Split(sep)];
            if (maxSplit != -1 && result.Count > maxSplit)
            {
                var rest = string.Join(sep, result.Skip((int)maxSplit));
                result = [.. result.Take((int)maxSplit), rest];
            }
        }
        else
        {
            throw new TemplateException("sep argument must be a string or null");
        }

        return new ListValue([.. result]);
    }

    public static string Replace(string s, List<object> args)
    {
        if (args.Count < 2)
        {
            throw new TemplateException("replace() requires at least two arguments");
        }

        if (args[0] is not string oldValue || args[1] is not string newValue)
        {
            throw new TemplateException("replace() arguments must be strings");
        }

        object count = args.Count > 2
            ? args[2] is DictValue { Kind: DictKind.KeywordArguments } kw ? kw.Items.GetValueOrDefault("count") ?? NoneValue.Instance : args[2]
            : NoneValue.Instance;
        long remaining = count switch
        {
            long l => l < 0 ? long.MaxValue : l,
            NoneValue => long.MaxValue,
            _ => throw new TemplateException("replace() count argument must be a number or null"),
        };
        if (remaining == 0)
        {
            return s;
        }

        if (oldValue.Length == 0)
        {
            // An empty pattern matches between code points (the reference uses a unicode regex).
            var points = Interpreter.CodePoints(s);
            var builder = new StringBuilder();
            for (int i = 0; i <= points.Count; i++)
            {
                if (remaining-- > 0)
                {
                    builder.Append(newValue);
                }

                if (i < points.Count)
                {
                    builder.Append(points[i]);
                }
            }

            return builder.ToString();
        }

        var output = new StringBuilder();
        int position = 0;
        while (remaining > 0)
        {
            int found = s.IndexOf(oldValue, position, StringComparison.Ordinal);
            if (found < 0)
            {
                break;
            }

            output.Append(s, position, found - position).Append(newValue);
            position = found + oldValue.Length;
            remaining--;
        }

        return output.Append(s, position, s.Length - position).ToString();
    }

    // JavaScript's \b\w: ASCII word characters only.
    [GeneratedRegex(@"\b[A-Za-z0-9_]", RegexOptions.ECMAScript)]
    private static partial Regex WordStartRegex();
}
