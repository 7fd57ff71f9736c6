using System.Globalization;
using System.Text.RegularExpressions;

namespace MmServe.Model.Chat.Jinja;

internal sealed partial class Interpreter
{
    private object ApplyFilter(object operand, string name, List<Node>? arguments, Scope environment)
    {
        if (arguments is null)
        {
            return ApplyPlainFilter(operand, name);
        }

        var (args, keywords) = EvaluateArguments(arguments, environment);
        object? Arg(int i, string keyword) => i < args.Count ? args[i] : keywords.GetValueOrDefault(keyword);
        switch (name)
        {
            case "tojson":
                var indent = keywords.GetValueOrDefault("indent") ?? NoneValue.Instance;
                var ensureAscii = keywords.GetValueOrDefault("ensure_ascii") ?? false;
                var sortKeys = keywords.GetValueOrDefault("sort_keys") ?? false;
                var separators = keywords.GetValueOrDefault("separators") ?? NoneValue.Instance;
                (string, string)? pair = separators switch
                {
                    NoneValue => null,
                    ListValue { Items: [string item, string key] } => (item, key),
                    _ => throw new TemplateException("separators must be a tuple of two strings"),
                };
                return Json.Serialize(operand, new JsonOptions(
                    indent switch { long l => (int)l, NoneValue => null, _ => throw new TemplateException("If set, indent must be a number") },
                    ensureAscii as bool? ?? throw new TemplateException("If set, ensure_ascii must be a boolean"),
                    pair,
                    sortKeys as bool? ?? throw new TemplateException("If set, sort_keys must be a boolean")), 0);
            case "join":
                var parts = operand switch
                {
                    string s => CodePoints(s),
                    ListValue list => list.Items.Select(x => x is NoneValue or Undefined ? string.Empty : Values.Raw(x)).ToList(),
                    _ => throw new TemplateException($"Cannot apply filter \"join\" to type: {Values.TypeName(operand)}"),
                };
                return string.Join(Arg(0, "separator") as string ?? (Arg(0, "separator") is null ? string.Empty : throw new TemplateException("separator must be a string")), parts);
            case "int" or "float":
                var fallback = Arg(0, "default") ?? (name == "int" ? (object)0L : 0.0);
                return operand switch
                {
                    string s => (name == "int" ? ParseIntPrefix(s) : (object?)ParseFloatPrefix(s)) ?? fallback,
                    long or double => operand,
                    bool b => name == "int" ? (object)(b ? 1L : 0L) : (b ? 1.0 : 0.0),
                    _ => throw new TemplateException($"Cannot apply filter \"{name}\" to type: {Values.TypeName(operand)}"),
                };
            case "default":
                var value = args.Count > 0 ? args[0] : string.Empty;
                var boolean = args.Count > 1 ? args[1] : keywords.GetValueOrDefault("boolean") ?? false;
                if (boolean is not bool whenFalsy)
                {
                    throw new TemplateException("`default` filter flag must be a boolean");
                }

                return operand is Undefined || (whenFalsy && !Values.Truthy(operand)) ? value : operand;
        }

        switch (operand)
        {
            case ListValue list:
                return name switch
                {
                    "sort" => Sort(list, args, keywords),
                    "selectattr" or "rejectattr" => SelectAttribute(list, name == "selectattr", arguments, args),
                    "map" => MapAttribute(list, keywords),
                    _ => throw new TemplateException($"Unknown ArrayValue filter: {name}"),
                };
            case string s:
                switch (name)
                {
                    case "indent":
                        var width = Arg(0, "width") ?? 4L;
                        var first = Arg(1, "first") ?? false;
                        var blank = Arg(2, "blank") ?? false;
                        string pad = new(' ', (int)(width as long? ?? throw new TemplateException("width must be a number")));
                        var lines = s.Split('\n').Select((line, i) =>
                            (!Values.Truthy(first) && i == 0) || (!Values.Truthy(blank) && line.Length == 0) ? line : pad + line);
                        return string.Join("\n", lines);
                    case "replace":
                        if (keywords.Count > 0)
                        {
                            args.Add(new DictValue(keywords, DictKind.KeywordArguments));
                        }

                        return Builtins.Replace(s, args);
                }

                throw new TemplateException($"Unknown StringValue filter: {name}");
            case DictValue { IsMapping: true } dict:
                if (Builtins.Dict(dict, name) is not FunctionValue method)
                {
                    throw new TemplateException($"Unknown ObjectValue filter: {name}");
                }

                if (keywords.Count > 0)
                {
                    args.Add(new DictValue(keywords, DictKind.KeywordArguments));
                }

                return method.Invoke(args, environment);
            default:
                throw new TemplateException($"Cannot apply filter \"{name}\" to type: {Values.TypeName(operand)}");
        }
    }

    private object ApplyPlainFilter(object operand, string name)
    {
        if (name == "safe")
        {
            return operand;
        }

        if (name == "tojson")
        {
            return Json.Serialize(operand, new JsonOptions(null, false, null, false), 0);
        }

        switch (operand)
        {
            case ListValue list:
                return name switch
                {
                    "list" => operand,
                    // The reference yields a JavaScript undefined here, which fails as soon as it is used.
                    "first" => list.Items.Count > 0 ? list.Items[0] : throw new TemplateException("first of an empty list"),
                    "last" => list.Items.Count > 0 ? list.Items[^1] : throw new TemplateException("last of an empty list"),
                    "length" => (long)list.Items.Count,
                    "reverse" => new ListValue([.. Enumerable.Reverse(list.Items)]),
                    "sort" => new ListValue(JsSort.Sort(list.Items, (a, b) => Builtins.Compare(a, b, false))),
                    "join" => string.Concat(list.Items.Select(x => x is NoneValue or Undefined ? string.Empty : Values.Raw(x))),
                    "string" => Json.Serialize(operand, new JsonOptions(null, false, null, false), 0, undefinedAsNull: false),
                    "unique" => Unique(list),
                    _ => throw new TemplateException($"Unknown ArrayValue filter: {name}"),
                };
            case string s:
                return name switch
                {
                    "length" => (long)s.Length,
                    "upper" => Builtins.Upper(s),
                    "lower" => s.ToLowerInvariant(),
                    "title" => Builtins.Title(s),
                    "capitalize" => Builtins.Capitalize(s),
                    "trim" => s.Trim(Lexer.JsWhitespaceChars),
                    "indent" => string.Join("\n", s.Split('\n').Select((x, i) => i == 0 || x.Length == 0 ? x : "    " + x)),
                    "join" or "string" => s,
                    "int" => ParseIntPrefix(s) ?? 0L,
                    "float" => ParseFloatPrefix(s) ?? 0.0,
                    _ => throw new TemplateException($"Unknown StringValue filter: {name}"),
                };
            case long or double:
                return name switch
                {
                    "abs" => operand is long l ? (object)Math.Abs(l) : Math.Abs((double)operand),
                    "int" => operand is long ? operand : (long)Math.Floor((double)operand),
                    "float" => Convert.ToDouble(operand, CultureInfo.InvariantCulture),
                    "string" => Values.Display(operand),
                    _ => throw new TemplateException($"Unknown NumericValue filter: {name}"),
                };
            case DictValue { IsMapping: true } dict:
                return name switch
                {
                    "items" => Builtins.Items(dict),
                    "length" => (long)dict.Items.Count,
                    _ => Builtins.Dict(dict, name) is FunctionValue method
                        ? method.Invoke([], new Scope())
                        : throw new TemplateException($"Unknown ObjectValue filter: {name}"),
                };
            case bool b:
                return name switch
                {
                    "bool" => b,
                    "int" => b ? 1L : 0L,
                    "float" => b ? 1.0 : 0.0,
                    "string" => b ? "true" : "false",
                    _ => throw new TemplateException($"Unknown BooleanValue filter: {name}"),
                };
            default:
                throw new TemplateException($"Cannot apply filter \"{name}\" to type: {Values.TypeName(operand)}");
        }
    }

    private static ListValue Unique(ListValue list)
    {
        var output = new List<object>();
        foreach (var item in list.Items.Where(item => !output.Any(seen => Values.StrictEquals(seen, item))))
        {
            output.Add(item);
        }

        return new ListValue(output);
    }

    private static ListValue Sort(ListValue list, List<object> args, OrderedDictionary<string, object> keywords)
    {
        object Arg(int i, string keyword, object fallback) => i < args.Count ? args[i] : keywords.GetValueOrDefault(keyword) ?? fallback;
        bool reverse = Arg(0, "reverse", false) as bool? ?? throw new TemplateException("reverse must be a boolean");
        bool caseSensitive = Arg(1, "case_sensitive", false) as bool? ?? throw new TemplateException("case_sensitive must be a boolean");
        var attribute = Arg(2, "attribute", NoneValue.Instance);
        string? path = attribute switch
        {
            NoneValue => null,
            string s => s,
            long l => l.ToString(CultureInfo.InvariantCulture),
            _ => throw new TemplateException("attribute must be a string, integer, or null"),
        };
        object Key(object item) => path is null ? item : GetAttribute(item, path);
        return new ListValue(JsSort.Sort(list.Items, (a, b) => (reverse ? -1 : 1) * Builtins.Compare(Key(a), Key(b), caseSensitive)));
    }

    private ListValue SelectAttribute(ListValue list, bool select, List<Node> arguments, List<object> args)
    {
        string filter = select ? "selectattr" : "rejectattr";
        if (list.Items.Any(item => item is not DictValue))
        {
            throw new TemplateException($"`{filter}` can only be applied to array of objects");
        }

        if (arguments.Any(a => a is not StringLiteral))
        {
            throw new TemplateException($"arguments of `{filter}` must be strings");
        }

        string attribute = (string)args[0];
        string? test = args.Count > 1 ? (string)args[1] : null;
        object? value = args.Count > 2 ? args[2] : null;
        return new ListValue([.. list.Items.Where(item =>
        {
            bool result = ((DictValue)item).Items.TryGetValue(attribute, out var a)
                && (test is null ? Values.Truthy(a) : RunTest(test, a, value));
            return result == select;
        })]);
    }

    private static ListValue MapAttribute(ListValue list, OrderedDictionary<string, object> keywords)
    {
        if (!keywords.TryGetValue("attribute", out var attribute))
        {
            throw new TemplateException("`map` expressions without `attribute` set are not currently supported.");
        }

        if (attribute is not string path)
        {
            throw new TemplateException("attribute must be a string");
        }

        var fallback = keywords.GetValueOrDefault("default");
        return new ListValue([.. list.Items.Select(item =>
        {
            if (item is not DictValue)
            {
                throw new TemplateException("items in map must be an object");
            }

            var value = GetAttribute(item, path);
            return value is Undefined ? fallback ?? Undefined.Instance : value;
        })]);
    }

    /// <summary>A dotted attribute path (e.g. "function.name"; numbers index lists).</summary>
    private static object GetAttribute(object item, string path)
    {
        var value = item;
        foreach (var part in path.Split('.'))
        {
            switch (value)
            {
                case DictValue dict:
                    value = dict.Items.GetValueOrDefault(part) ?? Undefined.Instance;
                    break;
                case ListValue list when ParseIntPrefix(part) is long index && index >= 0 && index < list.Items.Count:
                    value = list.Items[(int)index];
                    break;
                default:
                    return Undefined.Instance;
            }
        }

        return value;
    }

    /// <summary>JavaScript's parseInt(s, 10): leading whitespace, a sign and digits; null where there are none.</summary>
    private static long? ParseIntPrefix(string s)
    {
        string t = s.TrimStart(Lexer.JsWhitespaceChars);
        int i = t.Length > 0 && t[0] is '+' or '-' ? 1 : 0;
        int start = i;
        while (i < t.Length && char.IsAsciiDigit(t[i]))
        {
            i++;
        }

        return i > start && long.TryParse(t[..i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : null;
    }

    /// <summary>JavaScript's parseFloat: the longest leading decimal literal; null where there is none.</summary>
    private static double? ParseFloatPrefix(string s)
    {
        var match = FloatPrefixRegex().Match(s.TrimStart(Lexer.JsWhitespaceChars));
        if (!match.Success)
        {
            return null;
        }

        string text = match.Value;
        return text.EndsWith("Infinity", StringComparison.Ordinal)
            ? (text[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity)
            : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")]
    private static partial Regex FloatPrefixRegex();

    private static bool RunTest(string name, object operand, object? argument) => name switch
    {
        "boolean" => operand is bool,
        "callable" => operand is FunctionValue,
        "odd" => operand is long l ? l % 2 != 0 : throw new TemplateException($"cannot odd on {Values.TypeName(operand)}"),
        "even" => operand is long l ? l % 2 == 0 : throw new TemplateException($"cannot even on {Values.TypeName(operand)}"),
        "false" => operand is false,
        "true" => operand is true,
        "none" => operand is NoneValue,
        "string" => operand is string,
        "number" => operand is long or double,
        "integer" => operand is long,
        "iterable" => operand is ListValue { IsTuple: false } or string,
        "mapping" => operand is DictValue { IsMapping: true },
        "sequence" => operand is ListValue or DictValue { IsMapping: true } or string,
        "lower" => operand is string s && s == s.ToLowerInvariant(),
        "upper" => operand is string s && s == Builtins.Upper(s),
        "defined" => operand is not Undefined,
        "undefined" => operand is Undefined,
        "equalto" or "eq" => Values.StrictEquals(operand, argument ?? Undefined.Instance),
        _ => throw new TemplateException($"Unknown test: {name}"),
    };
}
