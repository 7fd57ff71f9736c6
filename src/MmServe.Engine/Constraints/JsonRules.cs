namespace MmServe.Engine.Constraints;

/// <summary>
/// JSON's lexical rules in one <see cref="GrammarBuilder"/>, each built once and shared by everything compiled into
/// it. Everything is bounded so that a sampled output always ends: whitespace runs (one newline and up to
/// <see cref="MaxIndent"/> spaces), number digits, and the nesting of values of unknown shape.
/// </summary>
public sealed class JsonRules(GrammarBuilder builder)
{
    public const int MaxIndent = 16;
    public const int MaxIntegerDigits = 16;
    public const int MaxFractionDigits = 16;
    public const int MaxExponentDigits = 3;

    /// <summary>Nesting of objects and arrays inside a value of unknown shape ("any JSON").</summary>
    public const int MaxAnyDepth = 6;

    private static readonly Symbol[] Nothing = [];
    private static readonly ByteSet Digit = ByteSet.Range((byte)'0', (byte)'9');
    private static readonly ByteSet Continuation = ByteSet.Range(0x80, 0xBF);

    private readonly Dictionary<int, int> _anyValue = [];
    private readonly Dictionary<int, int> _anyObject = [];
    private int _ws = -1, _char = -1, _string = -1, _number = -1, _integer = -1, _boolean = -1, _null = -1;

    public GrammarBuilder Builder { get; } = builder;

    /// <summary>Optional whitespace: nothing, one space, or a newline and an indent.</summary>
    public Symbol Ws => Symbol.Ref(_ws >= 0 ? _ws : _ws = BuildWs());

    /// <summary>One character of a string's content: a code point (UTF-8, exactly) or an escape.</summary>
    public Symbol Char => Symbol.Ref(_char >= 0 ? _char : _char = BuildChar());

    public Symbol String => Symbol.Ref(_string >= 0 ? _string : _string = StringOfLength(0, null).Rule);

    public Symbol Number => Symbol.Ref(_number >= 0 ? _number : _number = BuildNumber(fraction: true));

    public Symbol Integer => Symbol.Ref(_integer >= 0 ? _integer : _integer = BuildNumber(fraction: false));

    public Symbol Boolean => Symbol.Ref(_boolean >= 0 ? _boolean : _boolean = Builder.Rule([Builder.Literal("true")], [Builder.Literal("false")]));

    public Symbol Null => Symbol.Ref(_null >= 0 ? _null : _null = Builder.Literal("null").Rule);

    /// <summary>A string of <paramref name="min"/> to <paramref name="max"/> characters (null: unbounded).</summary>
    public Symbol StringOfLength(int min, int? max)
    {
        var quote = Symbol.Of(ByteSet.Of((byte)'"'));
        var content = Repeat([Char], min, max);
        return Symbol.Ref(Builder.Rule([quote, content, quote]));
    }

    /// <summary>Any JSON value, objects and arrays nested at most <see cref="MaxAnyDepth"/> deep from here.</summary>
    public Symbol AnyValue(int depth = 0)
    {
        if (_anyValue.TryGetValue(depth, out int rule))
        {
            return Symbol.Ref(rule);
        }

        rule = Builder.NewRule();
        _anyValue[depth] = rule;
        foreach (var scalar in new[] { String, Number, Boolean, Null })
        {
            Builder.Add(rule, scalar);
        }

        if (depth < MaxAnyDepth)
        {
            Builder.Add(rule, AnyObject(depth));
            Builder.Add(rule, Array(AnyValue(depth + 1), 0, null));
        }

        return Symbol.Ref(rule);
    }

    /// <summary>Any JSON object whose values nest at most <see cref="MaxAnyDepth"/> - depth deeper.</summary>
    public Symbol AnyObject(int depth = 0)
    {
        if (_anyObject.TryGetValue(depth, out int rule))
        {
            return Symbol.Ref(rule);
        }

        rule = Builder.NewRule();
        _anyObject[depth] = rule;
        var member = Builder.Rule([String, Ws, Colon, Ws, AnyValue(depth + 1)]);
        Builder.Add(rule, Symbol.Ref(Builder.Rule([Open('{'), Ws, Close('}')],
            [Open('{'), Ws, Symbol.Ref(member), Repeat([Ws, Comma, Ws, Symbol.Ref(member)], 0, null), Ws, Close('}')])));
        return Symbol.Ref(rule);
    }

    /// <summary>"[" items "]" with <paramref name="min"/> to <paramref name="max"/> items, comma-separated.</summary>
    public Symbol Array(Symbol item, int min, int? max)
    {
        var empty = new[] { Open('['), Ws, Close(']') };
        if (max == 0)
        {
            return Symbol.Ref(Builder.Rule(empty));
        }

        var rest = Repeat([Ws, Comma, Ws, item], Math.Max(0, min - 1), max - 1);
        var nonEmpty = new[] { Open('['), Ws, item, rest, Ws, Close(']') };
        return Symbol.Ref(min == 0 ? Builder.Rule(empty, nonEmpty) : Builder.Rule(nonEmpty));
    }

    public Symbol Comma => Symbol.Of(ByteSet.Of((byte)','));

    public Symbol Colon => Symbol.Of(ByteSet.Of((byte)':'));

    public static Symbol Open(char bracket) => Symbol.Of(ByteSet.Of((byte)bracket));

    public static Symbol Close(char bracket) => Symbol.Of(ByteSet.Of((byte)bracket));

    /// <summary>
    /// <paramref name="item"/> repeated <paramref name="min"/> to <paramref name="max"/> times (null: unbounded). Each
    /// repetition calls the next rule in tail position, so the automaton needs no stack for the count.
    /// </summary>
    public Symbol Repeat(Symbol[] item, int min, int? max)
    {
        int next;
        if (max is { } bound)
        {
            next = Builder.Rule(Nothing);
            for (int count = bound - 1; count >= min; count--)
            {
                next = Builder.Rule([.. item, Symbol.Ref(next)], []);
            }
        }
        else
        {
            next = Builder.NewRule();
            Builder.Add(next, [.. item, Symbol.Ref(next)]);
            Builder.Add(next);
        }

        for (int count = Math.Min(min, max ?? min) - 1; count >= 0; count--)
        {
            next = Builder.Rule([.. item, Symbol.Ref(next)]);
        }

        return Symbol.Ref(next);
    }

    private int BuildWs()
    {
        var space = Symbol.Of(ByteSet.Of((byte)' '));
        var indent = Repeat([space], 0, MaxIndent);
        return Builder.Rule([], [space], [Symbol.Of(ByteSet.Of((byte)'\n')), indent]);
    }

    private int BuildChar()
    {
        var plain = ByteSet.Range(0x20, 0x7F).Except(ByteSet.Of((byte)'"')).Except(ByteSet.Of((byte)'\\'));
        var hex = Symbol.Of(Digit.Union(ByteSet.Range((byte)'a', (byte)'f')).Union(ByteSet.Range((byte)'A', (byte)'F')));
        // \uXXXX except lone surrogates (D800-DFFF), so that one char element is always one code point.
        var hexNotD = Symbol.Of(Digit.Union(ByteSet.Range((byte)'a', (byte)'c')).Union(ByteSet.Range((byte)'A', (byte)'C'))
            .Union(ByteSet.Range((byte)'e', (byte)'f')).Union(ByteSet.Range((byte)'E', (byte)'F')));
        var d = Symbol.Of(ByteSet.Of((byte)'d').Union(ByteSet.Of((byte)'D')));
        var low = Symbol.Of(ByteSet.Range((byte)'0', (byte)'7'));
        var backslash = Symbol.Of(ByteSet.Of((byte)'\\'));
        var u = Symbol.Of(ByteSet.Of((byte)'u'));
        var simpleEscape = Symbol.Of("\"\\/bfnrt".Select(c => ByteSet.Of((byte)c)).Aggregate((a, b) => a.Union(b)));
        var cont = Symbol.Of(Continuation);
        return Builder.Rule(
            [Symbol.Of(plain)],
            [backslash, simpleEscape],
            [backslash, u, hexNotD, hex, hex, hex],
            [backslash, u, d, low, hex, hex],
            // UTF-8 exactly (RFC 3629 table 3-7): no overlong forms, no surrogates, nothing above U+10FFFF.
            [Symbol.Of(ByteSet.Range(0xC2, 0xDF)), cont],
            [Symbol.Of(ByteSet.Of(0xE0)), Symbol.Of(ByteSet.Range(0xA0, 0xBF)), cont],
            [Symbol.Of(ByteSet.Range(0xE1, 0xEC).Union(ByteSet.Range(0xEE, 0xEF))), cont, cont],
            [Symbol.Of(ByteSet.Of(0xED)), Symbol.Of(ByteSet.Range(0x80, 0x9F)), cont],
            [Symbol.Of(ByteSet.Of(0xF0)), Symbol.Of(ByteSet.Range(0x90, 0xBF)), cont, cont],
            [Symbol.Of(ByteSet.Range(0xF1, 0xF3)), cont, cont, cont],
            [Symbol.Of(ByteSet.Of(0xF4)), Symbol.Of(ByteSet.Range(0x80, 0x8F)), cont, cont]);
    }

    private int BuildNumber(bool fraction)
    {
        var digit = Symbol.Of(Digit);
        var minus = Builder.Rule([], [Symbol.Of(ByteSet.Of((byte)'-'))]);
        var magnitude = Builder.Rule(
            [Symbol.Of(ByteSet.Of((byte)'0'))],
            [Symbol.Of(ByteSet.Range((byte)'1', (byte)'9')), Repeat([digit], 0, MaxIntegerDigits - 1)]);
        if (!fraction)
        {
            return Builder.Rule([Symbol.Ref(minus), Symbol.Ref(magnitude)]);
        }

        var frac = Builder.Rule([], [Symbol.Of(ByteSet.Of((byte)'.')), Repeat([digit], 1, MaxFractionDigits)]);
        var sign = Builder.Rule([], [Symbol.Of(ByteSet.Of((byte)'+').Union(ByteSet.Of((byte)'-')))]);
        var exp = Builder.Rule([], [Symbol.Of(ByteSet.Of((byte)'e').Union(ByteSet.Of((byte)'E'))), Symbol.Ref(sign), Repeat([digit], 1, MaxExponentDigits)]);
        return Builder.Rule([Symbol.Ref(minus), Symbol.Ref(magnitude), Symbol.Ref(frac), Symbol.Ref(exp)]);
    }
}
