using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MmServe.Model.Chat.Jinja;

// Runtime values: string, long (integers), double (floats), bool, NoneValue, Undefined, ListValue, DictValue,
// FunctionValue. Integers and floats stay distinct because they print differently ("1" vs "1.0").

internal sealed class NoneValue
{
    public static readonly NoneValue Instance = new();
}

internal sealed class Undefined
{
    public static readonly Undefined Instance = new();
}

internal sealed class ListValue(List<object> items, bool isTuple = false)
{
    public List<object> Items { get; } = items;

    public bool IsTuple { get; } = isTuple;
}

internal enum DictKind
{
    Object,
    KeywordArguments,
    Namespace,
}

/// <summary>A JSON-like object (insertion-ordered), the keyword arguments of a call, or a namespace().</summary>
internal sealed class DictValue(OrderedDictionary<string, object> items, DictKind kind = DictKind.Object)
{
    public OrderedDictionary<string, object> Items { get; } = items;

    public DictKind Kind { get; } = kind;

    /// <summary>Objects and keyword arguments are mappings (with get/items/keys/values); a namespace is not.</summary>
    public bool IsMapping => Kind != DictKind.Namespace;
}

internal sealed class FunctionValue(Func<List<object>, Scope, object> invoke)
{
    public Func<List<object>, Scope, object> Invoke { get; } = invoke;
}

internal static class Values
{
    public static bool IsNumber(object v) => v is long or double;

    public static string TypeName(object v) => v switch
    {
        string => "StringValue",
        long => "IntegerValue",
        double => "FloatValue",
        bool => "BooleanValue",
        NoneValue => "NullValue",
        Undefined => "UndefinedValue",
        ListValue { IsTuple: true } => "TupleValue",
        ListValue => "ArrayValue",
        DictValue { Kind: DictKind.Namespace } => "NamespaceValue",
        DictValue { Kind: DictKind.KeywordArguments } => "KeywordArgumentsValue",
        DictValue => "ObjectValue",
        FunctionValue => "FunctionValue",
        _ => v.GetType().Name,
    };

    public static bool Truthy(object v) => v switch
    {
        string s => s.Length > 0,
        long l => l != 0,
        double d => d != 0 && !double.IsNaN(d),
        bool b => b,
        NoneValue or Undefined => false,
        ListValue list => list.Items.Count > 0,
        DictValue { Kind: DictKind.Namespace } => true,
        DictValue dict => dict.Items.Count > 0,
        _ => true,
    };

    /// <summary>How a value prints in the output (the reference's RuntimeValue.toString).</summary>
    public static string Display(object v) => v switch
    {
        double d when d == 0 && double.IsNegative(d) => "-0.0",
        double d when Math.Abs(d % 1) == 0 && double.IsFinite(d) => d.ToString("F1", CultureInfo.InvariantCulture),
        ListValue or DictValue => Json.Serialize(v, new JsonOptions(null, false, null, false), 0, undefinedAsNull: false),
        _ => Raw(v),
    };

    /// <summary>JavaScript's String(value) of the underlying value, which + and ~ concatenate (so 1.0 is "1").</summary>
    public static string Raw(object v) => v switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => JsNumber(d),
        bool b => b ? "true" : "false",
        NoneValue => "null",
        Undefined => "undefined",
        ListValue list => string.Join(",", list.Items.Select(Display)),
        DictValue => "[object Map]",
        FunctionValue => throw new TemplateException("Cannot convert a function to a string"),
        _ => v.ToString() ?? string.Empty,
    };

    public static string JsNumber(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }

        if (d == Math.Floor(d) && Math.Abs(d) < 1e21)
        {
            return new System.Numerics.BigInteger(d).ToString(CultureInfo.InvariantCulture);
        }

        string r = d.ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return r;
        }

        // .NET writes 1E-07 where JavaScript writes 1e-7 (and uses plain notation down to 1e-6).
        int exponent = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
        if (exponent >= -6 && exponent < 21)
        {
            return d.ToString("0.####################", CultureInfo.InvariantCulture);
        }

        return r[..e].ToLowerInvariant() + "e" + (exponent > 0 ? "+" : "-") + Math.Abs(exponent).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>JavaScript's loose ==, which the reference uses for == and !=.</summary>
    public static bool LooseEquals(object a, object b)
    {
        bool aNil = a is NoneValue or Undefined, bNil = b is NoneValue or Undefined;
        if (aNil || bNil)
        {
            return aNil && bNil;
        }

        if (a is string sa && b is string sb)
        {
            return string.Equals(sa, sb, StringComparison.Ordinal);
        }

        bool aObject = a is ListValue or DictValue or FunctionValue, bObject = b is ListValue or DictValue or FunctionValue;
        if (aObject && bObject)
        {
            return ReferenceEquals(a is ListValue la ? la.Items : a is DictValue da ? da.Items : a, b is ListValue lb ? lb.Items : b is DictValue db ? db.Items : b);
        }

        if (aObject || bObject)
        {
            // JavaScript compares an object with a primitive through the object's string form ([] == 0 is true).
            return aObject ? LooseEquals(ToPrimitive(a), b) : LooseEquals(a, ToPrimitive(b));
        }

        return ToNumber(a) == ToNumber(b);
    }

    private static string ToPrimitive(object v) => v switch
    {
        ListValue list => string.Join(",", list.Items.Select(Display)),
        DictValue => "[object Map]",
        _ => "function",
    };

    /// <summary>JavaScript's ===, used by `in` and the equalto test.</summary>
    public static bool StrictEquals(object a, object b) => (a, b) switch
    {
        (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
        (long or double, long or double) => ToNumber(a) == ToNumber(b),
        (bool x, bool y) => x == y,
        (NoneValue, NoneValue) or (Undefined, Undefined) => true,
        (ListValue x, ListValue y) => ReferenceEquals(x.Items, y.Items),
        (DictValue x, DictValue y) => ReferenceEquals(x.Items, y.Items),
        _ => ReferenceEquals(a, b),
    };

    private static double ToNumber(object v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        string s => s.Trim(Lexer.JsWhitespaceChars) is var t && t.Length == 0 ? 0
            : double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) ? n : double.NaN,
        _ => double.NaN,
    };

    /// <summary>Converts caller-supplied data (CLR primitives, dictionaries, lists, JsonElement) to runtime values.</summary>
    public static object FromClr(object? value) => value switch
    {
        null => NoneValue.Instance,
        string s => s,
        bool b => b,
        int or long or short or byte or uint or sbyte or ushort => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        double or float or decimal => Number(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        JsonElement element => FromJson(element),
        FunctionValue or ListValue or DictValue => value,
        IReadOnlyDictionary<string, object?> map => new DictValue(new OrderedDictionary<string, object>(
            map.Select(kv => KeyValuePair.Create(kv.Key, FromClr(kv.Value))))),
        IDictionary dictionary => new DictValue(new OrderedDictionary<string, object>(
            dictionary.Keys.Cast<object>().Select(k => KeyValuePair.Create(Convert.ToString(k, CultureInfo.InvariantCulture)!, FromClr(dictionary[k]))))),
        IEnumerable sequence => new ListValue([.. sequence.Cast<object?>().Select(FromClr)]),
        _ => throw new TemplateException($"Cannot pass a {value.GetType().Name} to a template"),
    };

    // JavaScript has one number type: an integral value is an integer to the reference (JSON 1.0 reads as 1).
    private static object Number(double d) => d == Math.Floor(d) && Math.Abs(d) < 9.007199254740992e15 ? (object)(long)d : d;

    private static object FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!,
        JsonValueKind.Number => Number(element.GetDouble()),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => NoneValue.Instance,
        JsonValueKind.Array => new ListValue([.. element.EnumerateArray().Select(FromJson)]),
        JsonValueKind.Object => new DictValue(new OrderedDictionary<string, object>(
            element.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, FromJson(p.Value))))),
        _ => Undefined.Instance,
    };
}

internal sealed record JsonOptions(int? Indent, bool EnsureAscii, (string Item, string Key)? Separators, bool SortKeys);

/// <summary>The reference's tojson: Python-like separators (", " and ": "), optional indent, non-ASCII kept unless asked.</summary>
internal static class Json
{
    public static string Serialize(object value, JsonOptions options, int depth, bool undefinedAsNull = true)
    {
        int indent = options.Indent ?? 0;
        var (itemSeparator, keySeparator) = options.Separators ?? (indent > 0 ? (",", ": ") : (", ", ": "));
        switch (value)
        {
            case NoneValue:
                return "null";
            case Undefined:
                return undefinedAsNull ? "null" : "undefined";
            case long l:
                return l.ToString(CultureInfo.InvariantCulture);
            case double d:
                return double.IsFinite(d) ? Values.JsNumber(d) : "null";
            case bool b:
                return b ? "true" : "false";
            case string s:
                return Quote(s, options.EnsureAscii);
            case ListValue { IsTuple: true } or DictValue { Kind: DictKind.KeywordArguments }:
                // The reference cannot print these (its JSON writer does not know the types).
                throw new TemplateException($"Cannot convert to JSON: {Values.TypeName(value)}");
            case ListValue or DictValue:
                string unit = new(' ', indent);
                string basePadding = "\n" + string.Concat(Enumerable.Repeat(unit, depth));
                string childPadding = basePadding + unit;
                if (value is ListValue list)
                {
                    var items = list.Items.Select(x => Serialize(x, options, depth + 1, undefinedAsNull)).ToList();
                    return indent > 0 && items.Count > 0
                        ? "[" + childPadding + string.Join(itemSeparator + childPadding, items) + basePadding + "]"
                        : "[" + string.Join(itemSeparator, items) + "]";
                }

                IEnumerable<KeyValuePair<string, object>> entries = ((DictValue)value).Items;
                if (options.SortKeys)
                {
                    entries = entries.OrderBy(kv => kv.Key, StringComparer.InvariantCulture);
                }

                var core = entries.Select(kv =>
                {
                    string entry = Quote(kv.Key, options.EnsureAscii) + keySeparator + Serialize(kv.Value, options, depth + 1, undefinedAsNull);
                    return indent > 0 ? childPadding + entry : entry;
                }).ToList();
                return indent > 0 && core.Count > 0
                    ? "{" + string.Join(itemSeparator, core) + basePadding + "}"
                    : "{" + string.Join(itemSeparator, core) + "}";
            default:
                throw new TemplateException($"Cannot convert to JSON: {Values.TypeName(value)}");
        }
    }

    /// <summary>JSON.stringify of a string (lone surrogates escaped), then \u escapes above 0x7e if ensure_ascii.</summary>
    private static string Quote(string s, bool ensureAscii)
    {
        var builder = new StringBuilder(s.Length + 2).Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    bool loneSurrogate = (char.IsHighSurrogate(c) && !(i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])))
                        || (char.IsLowSurrogate(c) && !(i > 0 && char.IsHighSurrogate(s[i - 1])));
                    if (c < 0x20 || loneSurrogate || (ensureAscii && c >= 0x7f))
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        return builder.Append('"').ToString();
    }
}
