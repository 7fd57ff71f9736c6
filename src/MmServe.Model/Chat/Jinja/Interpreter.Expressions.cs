using System.Globalization;

namespace MmServe.Model.Chat.Jinja;

internal sealed partial class Interpreter
{
    private object Evaluate(Node node, Scope environment)
    {
        GuardStack();
        return EvaluateNode(node, environment);
    }

    private object EvaluateNode(Node node, Scope environment) => node switch
    {
        IntegerLiteral i => i.Value,
        FloatLiteral f => f.Value,
        StringLiteral s => s.Value,
        TextNode t => t.Text,
        ListLiteral l => new ListValue([.. l.Items.Select(x => Evaluate(x, environment))]),
        TupleLiteral t => new ListValue([.. t.Items.Select(x => Evaluate(x, environment))], isTuple: true),
        DictLiteral d => EvaluateDict(d, environment),
        Identifier id => environment.Lookup(id.Name),
        MemberNode m => EvaluateMember(m, environment),
        CallNode c => EvaluateCall(c, environment),
        BinaryNode b => EvaluateBinary(b, environment),
        UnaryNode u => EvaluateUnary(u, environment),
        FilterNode { Unsupported: { } error } f => throw source.Error(error, f.Position),
        FilterNode f => ApplyFilter(Evaluate(f.Operand, environment), f.Name, f.Arguments, environment),
        TestNode { Unsupported: { } error } t => throw source.Error(error, t.Position),
        TestNode t => t.Negate != RunTest(t.Name, Evaluate(t.Operand, environment), null),
        TernaryNode t => Evaluate(Values.Truthy(Evaluate(t.Condition, environment)) ? t.WhenTrue : t.WhenFalse, environment),
        SelectNode s => Values.Truthy(Evaluate(s.Condition, environment)) ? Evaluate(s.Value, environment) : Undefined.Instance,
        _ => throw new TemplateException($"Cannot evaluate {node.GetType().Name}"),
    };

    private DictValue EvaluateDict(DictLiteral node, Scope environment)
    {
        var items = new OrderedDictionary<string, object>();
        foreach (var (key, value) in node.Entries)
        {
            var k = Evaluate(key, environment);
            items[k as string ?? throw new TemplateException($"Object keys must be strings: got {Values.TypeName(k)}")] = Evaluate(value, environment);
        }

        return new DictValue(items);
    }

    private (List<object> Positional, OrderedDictionary<string, object> Keywords) EvaluateArguments(List<Node> arguments, Scope environment)
    {
        var positional = new List<object>();
        foreach (var argument in arguments.Where(a => a is not (KeywordArgument or KeywordSpreadArgument)))
        {
            if (argument is SpreadArgument spread)
            {
                var value = Evaluate(spread.Value, environment);
                positional.AddRange(value is ListValue list ? list.Items : throw new TemplateException($"Cannot unpack non-iterable type: {Values.TypeName(value)}"));
            }
            else
            {
                positional.Add(Evaluate(argument, environment));
            }
        }

        var keywords = new OrderedDictionary<string, object>();
        void Add(string name, object value)
        {
            if (!keywords.TryAdd(name, value))
            {
                throw new TemplateException($"Got multiple values for keyword argument '{name}'");
            }
        }

        foreach (var argument in arguments)
        {
            if (argument is KeywordArgument keyword)
            {
                Add(keyword.Name, Evaluate(keyword.Value, environment));
            }
            else if (argument is KeywordSpreadArgument keywordSpread)
            {
                var value = Evaluate(keywordSpread.Value, environment);
                if (value is not DictValue { IsMapping: true } mapping)
                {
                    throw new TemplateException($"Argument after ** must be a mapping, not {Values.TypeName(value)}");
                }

                foreach (var (name, item) in mapping.Items)
                {
                    Add(name, item);
                }
            }
        }

        return (positional, keywords);
    }

    private object EvaluateCall(CallNode node, Scope environment)
    {
        var (args, keywords) = EvaluateArguments(node.Arguments, environment);
        if (keywords.Count > 0)
        {
            args.Add(new DictValue(keywords, DictKind.KeywordArguments));
        }

        var callee = Evaluate(node.Callee, environment);
        if (callee is not FunctionValue function)
        {
            throw new TemplateException($"Cannot call something that is not a function: got {Values.TypeName(callee)}");
        }

        return function.Invoke(args, environment);
    }

    private object EvaluateMember(MemberNode node, Scope environment)
    {
        var target = Evaluate(node.Target, environment);
        object property;
        if (node.Computed)
        {
            if (node.Property is SliceNode slice)
            {
                return EvaluateSlice(target, slice, environment);
            }

            property = Evaluate(node.Property, environment);
        }
        else
        {
            property = node.Property is IntegerLiteral i ? i.Value : ((Identifier)node.Property).Name;
        }

        object? value;
        switch (target)
        {
            case DictValue dict:
                if (property is not string key)
                {
                    throw new TemplateException($"Cannot access property with non-string: got {Values.TypeName(property)}");
                }

                value = dict.Items.TryGetValue(key, out var found) ? found : dict.IsMapping ? Builtins.Dict(dict, key) : null;
                break;
            case ListValue or string:
                value = property switch
                {
                    long index when target is ListValue list => At(list.Items, index),
                    long index => At((string)target, index),
                    string name => target is string s ? Builtins.String(s, name) : name == "length" ? (long)((ListValue)target).Items.Count : null,
                    _ => throw new TemplateException($"Cannot access property with non-string/non-number: got {Values.TypeName(property)}"),
                };
                break;
            default:
                if (property is not string)
                {
                    throw new TemplateException($"Cannot access property with non-string: got {Values.TypeName(property)}");
                }

                value = null;
                break;
        }

        return value ?? Undefined.Instance;
    }

    private static object? At(List<object> items, long index)
    {
        long i = index < 0 ? items.Count + index : index;
        return i >= 0 && i < items.Count ? items[(int)i] : null;
    }

    private static string? At(string s, long index)
    {
        long i = index < 0 ? s.Length + index : index;
        return i >= 0 && i < s.Length ? s[(int)i].ToString() : null;
    }

    private object EvaluateSlice(object target, SliceNode node, Scope environment)
    {
        long? Part(Node? part, string what)
        {
            var value = part is null ? Undefined.Instance : Evaluate(part, environment);
            return value switch
            {
                long l => l,
                Undefined => null,
                _ => throw new TemplateException($"Slice {what} must be numeric or undefined"),
            };
        }

        long? start = Part(node.Start, "start"), stop = Part(node.Stop, "stop"), step = Part(node.Step, "step");
        return target switch
        {
            ListValue list => new ListValue(Slice(list.Items, start, stop, step ?? 1)),
            // Strings slice by code point, like JavaScript's Array.from(string).
            string s => string.Concat(Slice(CodePoints(s), start, stop, step ?? 1)),
            _ => throw new TemplateException("Slice object must be an array or string"),
        };
    }

    internal static List<string> CodePoints(string s)
    {
        var result = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            bool pair = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]);
            result.Add(pair ? s.Substring(i++, 2) : s[i].ToString());
        }

        return result;
    }

    private static List<T> Slice<T>(List<T> items, long? start, long? stop, long step)
    {
        if (step == 0)
        {
            throw new TemplateException("Slice step cannot be zero");
        }

        long n = items.Count;
        long from, to;
        if (step > 0)
        {
            from = start is { } a ? (a < 0 ? Math.Max(n + a, 0) : Math.Min(a, n)) : 0;
            to = stop is { } b ? (b < 0 ? Math.Max(n + b, 0) : Math.Min(b, n)) : n;
        }
        else
        {
            from = start is { } a ? (a < 0 ? Math.Max(n + a, -1) : Math.Min(a, n - 1)) : n - 1;
            to = stop is { } b ? (b < -1 ? Math.Max(n + b, -1) : Math.Min(b, n - 1)) : -1;
        }

        var result = new List<T>();
        long direction = Math.Sign(step);
        for (long i = from; direction * i < direction * to; i += step)
        {
            result.Add(items[(int)i]);
        }

        return result;
    }

    private object EvaluateUnary(UnaryNode node, Scope environment)
    {
        var operand = Evaluate(node.Operand, environment);
        if (node.Operator == "not")
        {
            return !Values.Truthy(operand);
        }

        long sign = node.Operator == "-" ? -1 : 1;
        return operand switch
        {
            long l => (object)(sign * l),
            double d => sign * d,
            bool b => (object)(sign * (b ? 1L : 0L)),
            _ => throw new TemplateException($"Unknown operator \"{node.Operator}\" for {Values.TypeName(operand)}"),
        };
    }

    private object EvaluateBinary(BinaryNode node, Scope environment)
    {
        var left = Evaluate(node.Left, environment);
        if (node.Operator == "and")
        {
            return Values.Truthy(left) ? Evaluate(node.Right, environment) : left;
        }

        if (node.Operator == "or")
        {
            return Values.Truthy(left) ? left : Evaluate(node.Right, environment);
        }

        var right = Evaluate(node.Right, environment);
        string op = node.Operator;
        switch (op)
        {
            case "==":
                return Values.LooseEquals(left, right);
            case "!=":
                return !Values.LooseEquals(left, right);
        }

        if (left is Undefined || right is Undefined)
        {
            if (right is Undefined && op is "in" or "not in")
            {
                return op == "not in";
            }

            throw new TemplateException($"Cannot perform operation {op} on undefined values");
        }

        if (left is NoneValue || right is NoneValue)
        {
            throw new TemplateException("Cannot perform operation on null values");
        }

        if (op == "~")
        {
            return Values.Raw(left) + Values.Raw(right);
        }

        if (op == "**" && left is long or double or bool && right is long or double or bool)
        {
            return Power(left, right);
        }

        if (Values.IsNumber(left) && Values.IsNumber(right))
        {
            if (Arithmetic(op, left, right) is { } result)
            {
                return result;
            }
        }
        else if (left is ListValue l && right is ListValue r)
        {
            if (op == "+")
            {
                return new ListValue([.. l.Items, .. r.Items]);
            }
        }
        else if (right is ListValue list && op is "in" or "not in")
        {
            return list.Items.Any(x => Values.StrictEquals(x, left)) == (op == "in");
        }

        if (op == "+" && (left is string || right is string))
        {
            return Values.Raw(left) + Values.Raw(right);
        }

        if (op is "in" or "not in")
        {
            if (left is string needle && right is string haystack)
            {
                return haystack.Contains(needle, StringComparison.Ordinal) == (op == "in");
            }

            if (left is string key && right is DictValue { IsMapping: true } dict)
            {
                return dict.Items.ContainsKey(key) == (op == "in");
            }
        }

        throw new TemplateException($"Unknown operator \"{op}\" between {Values.TypeName(left)} and {Values.TypeName(right)}");
    }

    private static object? Arithmetic(string op, object left, object right)
    {
        bool isFloat = left is double || right is double;
        if (!isFloat)
        {
            long a = (long)left, b = (long)right;
            return op switch
            {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => (double)a / b,
                // By zero, JavaScript yields Infinity or NaN rather than failing.
                "//" => b == 0 ? Math.Floor((double)a / b) : (object)(long)Math.Floor((double)a / b),
                "%" => b == 0 ? double.NaN : (object)(a % b),
                "<" => a < b,
                ">" => a > b,
                "<=" => a <= b,
                ">=" => a >= b,
                _ => null,
            };
        }

        double x = Convert.ToDouble(left, CultureInfo.InvariantCulture), y = Convert.ToDouble(right, CultureInfo.InvariantCulture);
        return op switch
        {
            "+" => x + y,
            "-" => x - y,
            "*" => x * y,
            "/" => x / y,
            "//" => Math.Floor(x / y),
            "%" => x % y,
            "<" => x < y,
            ">" => x > y,
            "<=" => x <= y,
            ">=" => x >= y,
            _ => null,
        };
    }

    private static object Power(object left, object right)
    {
        double a = left is bool ba ? (ba ? 1 : 0) : Convert.ToDouble(left, CultureInfo.InvariantCulture);
        double b = right is bool bb ? (bb ? 1 : 0) : Convert.ToDouble(right, CultureInfo.InvariantCulture);
        if (a == 0 && b < 0)
        {
            throw new TemplateException("0.0 cannot be raised to a negative power");
        }

        double result = Math.Pow(a, b);
        if (!double.IsFinite(result))
        {
            throw new TemplateException("Exponentiation result is not a finite real number");
        }

        return left is double || right is double || b < 0 ? result : (object)(long)result;
    }
}
