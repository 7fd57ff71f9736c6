using System.Globalization;
using System.Runtime.CompilerServices;

namespace MmServe.Model.Chat.Jinja;

/// <summary>
/// Recursive-descent parser with @huggingface/jinja's grammar and precedence. Constructs this interpreter does not
/// implement (unknown statements such as include, extends, with, import) are rejected here, at parse time; unknown
/// filters and tests are recorded and fail when rendering reaches them (see <see cref="FilterNode"/>).
/// </summary>
internal sealed class Parser
{
    internal static readonly HashSet<string> Filters =
    [
        "safe", "tojson", "list", "first", "last", "length", "reverse", "sort", "join", "string", "unique", "upper",
        "lower", "title", "capitalize", "trim", "indent", "int", "float", "abs", "items", "bool", "default",
        "selectattr", "rejectattr", "map", "replace", "keys", "values", "dictsort",
    ];

    internal static readonly HashSet<string> Tests =
    [
        "boolean", "callable", "odd", "even", "false", "true", "none", "string", "number", "integer", "iterable",
        "mapping", "sequence", "lower", "upper", "defined", "undefined", "equalto", "eq",
    ];

    private readonly SourceText source;
    private readonly List<Token> tokens;
    private int current;

    private Parser(SourceText source, List<Token> tokens)
    {
        this.source = source;
        this.tokens = tokens;
    }

    public static List<Node> Parse(SourceText source)
    {
        var parser = new Parser(source, Lexer.Tokenize(source));
        var body = new List<Node>();
        while (parser.current < parser.tokens.Count)
        {
            body.Add(parser.ParseAny());
        }

        return body;
    }

    private Token Peek => current < tokens.Count
        ? tokens[current]
        : throw source.Error("Unexpected end of template", source.Text.Length);

    private int Position => current < tokens.Count ? tokens[current].Position : source.Text.Length;

    private TemplateException Error(string message) => source.Error(message, Position);

    private Token Expect(TokenKind kind, string what)
    {
        if (current >= tokens.Count || tokens[current].Kind != kind)
        {
            throw Error($"Expected {what}" + (current < tokens.Count ? $", got '{tokens[current].Value}'" : ", got the end of the template"));
        }

        return tokens[current++];
    }

    private bool Is(TokenKind kind) => current < tokens.Count && tokens[current].Kind == kind;

    private bool IsIdentifier(string name, int offset = 0) =>
        current + offset < tokens.Count && tokens[current + offset].Kind == TokenKind.Identifier && tokens[current + offset].Value == name;

    private bool IsStatement(params string[] names) =>
        Is(TokenKind.OpenStatement) && current + 1 < tokens.Count && tokens[current + 1].Kind == TokenKind.Identifier
            && names.Contains(tokens[current + 1].Value);

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name))
        {
            throw Error($"Expected '{name}'");
        }

        current++;
    }

    private void ExpectEnd(string name)
    {
        Expect(TokenKind.OpenStatement, $"{{% {name} %}}");
        ExpectIdentifier(name);
        Expect(TokenKind.CloseStatement, "%}");
    }

    private List<Node> ParseUntil(params string[] names)
    {
        var body = new List<Node>();
        while (!IsStatement(names))
        {
            if (current >= tokens.Count)
            {
                throw Error($"Missing {{% {names[^1]} %}}");
            }

            body.Add(ParseAny());
        }

        return body;
    }

    private Node ParseAny()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error("Template nests too deeply");
        }

        var token = Peek;
        switch (token.Kind)
        {
            case TokenKind.Comment:
                current++;
                return new CommentNode(token.Position);
            case TokenKind.Text:
                current++;
                return new TextNode(token.Value, token.Position);
            case TokenKind.OpenStatement:
                return ParseStatement();
            case TokenKind.OpenExpression:
                current++;
                var expression = ParseExpression();
                Expect(TokenKind.CloseExpression, "}}");
                return new OutputNode(expression, token.Position);
            default:
                throw Error($"Unexpected '{token.Value}'");
        }
    }

    private Node ParseStatement()
    {
        int start = Position;
        Expect(TokenKind.OpenStatement, "{%");
        if (!Is(TokenKind.Identifier))
        {
            throw Error($"Expected a statement name, got '{Peek.Value}'");
        }

        string name = tokens[current++].Value;
        switch (name)
        {
            case "set":
                return ParseSet(start);
            case "if":
                var ifNode = ParseIf(start);
                ExpectEnd("endif");
                return ifNode;
            case "for":
                var forNode = ParseFor(start);
                ExpectEnd("endfor");
                return forNode;
            case "macro":
                var macro = ParseMacro(start);
                ExpectEnd("endmacro");
                return macro;
            case "call":
                return ParseCallBlock(start);
            case "filter":
                return ParseFilterBlock(start);
            case "break":
                Expect(TokenKind.CloseStatement, "%}");
                return new BreakNode(start);
            case "continue":
                Expect(TokenKind.CloseStatement, "%}");
                return new ContinueNode(start);
            default:
                throw source.Error($"Unsupported statement '{name}'", start);
        }
    }

    private Node ParseSet(int start)
    {
        var target = ParseExpressionSequence();
        if (target is not (Identifier or TupleLiteral or MemberNode { Computed: false }))
        {
            throw source.Error("Expected a name, a tuple of names or a namespace attribute to assign", target.Position);
        }

        Node? value = null;
        var body = new List<Node>();
        if (Is(TokenKind.Equals))
        {
            current++;
            value = ParseExpressionSequence();
        }
        else
        {
            Expect(TokenKind.CloseStatement, "%}");
            body = ParseUntil("endset");
            Expect(TokenKind.OpenStatement, "{%");
            ExpectIdentifier("endset");
        }

        Expect(TokenKind.CloseStatement, "%}");
        return new SetNode(target, value, body, start);
    }

    private IfNode ParseIf(int start)
    {
        var test = ParseExpression();
        Expect(TokenKind.CloseStatement, "%}");
        var body = ParseUntil("elif", "else", "endif");
        var alternate = new List<Node>();
        if (IsStatement("elif"))
        {
            int elifStart = Position;
            current += 2;
            alternate.Add(ParseIf(elifStart));
        }
        else if (IsStatement("else"))
        {
            current += 2;
            Expect(TokenKind.CloseStatement, "%}");
            alternate = ParseUntil("endif");
        }

        return new IfNode(test, body, alternate, start);
    }

    private ForNode ParseFor(int start)
    {
        var target = ParseExpressionSequence(primary: true);
        if (target is not (Identifier or TupleLiteral))
        {
            throw source.Error("Expected a name or a tuple of names for the loop variable", target.Position);
        }

        ExpectIdentifier("in");
        var iterable = ParseExpression();
        Expect(TokenKind.CloseStatement, "%}");
        var body = ParseUntil("endfor", "else");
        var otherwise = new List<Node>();
        if (IsStatement("else"))
        {
            current += 2;
            Expect(TokenKind.CloseStatement, "%}");
            otherwise = ParseUntil("endfor");
        }

        return new ForNode(target, iterable, body, otherwise, start);
    }

    private MacroNode ParseMacro(int start)
    {
        if (ParsePrimary() is not Identifier name)
        {
            throw source.Error("Expected a macro name", start);
        }

        var parameters = ParseArguments(parameters: true);
        Expect(TokenKind.CloseStatement, "%}");
        return new MacroNode(name.Name, parameters, ParseUntil("endmacro"), start);
    }

    private CallBlockNode ParseCallBlock(int start)
    {
        var callerParameters = Is(TokenKind.OpenParen) ? ParseArguments(parameters: true) : [];
        int at = Position;
        if (ParsePrimary() is not Identifier callee)
        {
            throw source.Error("Expected a macro name after 'call'", at);
        }

        var call = new CallNode(callee, ParseArguments(parameters: false), at);
        Expect(TokenKind.CloseStatement, "%}");
        var body = ParseUntil("endcall");
        ExpectEnd("endcall");
        return new CallBlockNode(callerParameters, call, body, start);
    }

    private FilterBlockNode ParseFilterBlock(int start)
    {
        int at = Position;
        if (ParsePrimary() is not Identifier filter)
        {
            throw source.Error("Expected a filter name after 'filter'", at);
        }

        var arguments = Is(TokenKind.OpenParen) ? ParseArguments(parameters: false) : null;
        Expect(TokenKind.CloseStatement, "%}");
        var body = ParseUntil("endfilter");
        ExpectEnd("endfilter");
        return new FilterBlockNode(filter.Name, arguments, body, at, Filters.Contains(filter.Name) ? null : $"Unsupported filter '{filter.Name}'");
    }

    private Node ParseExpressionSequence(bool primary = false)
    {
        int start = Position;
        var first = primary ? ParsePrimary() : ParseExpression();
        if (!Is(TokenKind.Comma))
        {
            return first;
        }

        var items = new List<Node> { first };
        while (Is(TokenKind.Comma))
        {
            current++;
            items.Add(primary ? ParsePrimary() : ParseExpression());
        }

        return new TupleLiteral(items, start);
    }

    private Node ParseExpression()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error("Template nests too deeply");
        }

        var value = ParseOr();
        if (!IsIdentifier("if"))
        {
            return value;
        }

        int start = Position;
        current++;
        var test = ParseOr();
        if (!IsIdentifier("else"))
        {
            return new SelectNode(value, test, start);
        }

        current++;
        return new TernaryNode(test, value, ParseExpression(), start);
    }

    private Node ParseOr()
    {
        var left = ParseAnd();
        while (IsIdentifier("or"))
        {
            int at = Position;
            current++;
            left = new BinaryNode("or", left, ParseAnd(), at);
        }

        return left;
    }

    private Node ParseAnd()
    {
        var left = ParseNot();
        while (IsIdentifier("and"))
        {
            int at = Position;
            current++;
            left = new BinaryNode("and", left, ParseNot(), at);
        }

        return left;
    }

    private Node ParseNot()
    {
        if (!IsIdentifier("not"))
        {
            return ParseComparison();
        }

        int at = Position;
        current++;
        return new UnaryNode("not", ParseNot(), at);
    }

    private Node ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            int at = Position;
            string op;
            if (IsIdentifier("not") && IsIdentifier("in", 1))
            {
                op = "not in";
                current += 2;
            }
            else if (IsIdentifier("in"))
            {
                op = "in";
                current++;
            }
            else if (Is(TokenKind.Comparison))
            {
                op = tokens[current++].Value;
            }
            else
            {
                return left;
            }

            left = new BinaryNode(op, left, ParseAdditive(), at);
        }
    }

    private Node ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Is(TokenKind.Additive))
        {
            var op = tokens[current++];
            left = new BinaryNode(op.Value, left, ParseMultiplicative(), op.Position);
        }

        return left;
    }

    private Node ParseMultiplicative()
    {
        var left = ParsePower();
        while (Is(TokenKind.Multiplicative))
        {
            var op = tokens[current++];
            left = new BinaryNode(op.Value, left, ParsePower(), op.Position);
        }

        return left;
    }

    private Node ParsePower()
    {
        var left = ParseTest();
        while (Is(TokenKind.Exponent))
        {
            var op = tokens[current++];
            left = new BinaryNode("**", left, ParseTest(), op.Position);
        }

        return left;
    }

    private Node ParseTest()
    {
        var operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            int at = Position;
            current++;
            bool negate = IsIdentifier("not");
            if (negate)
            {
                current++;
            }

            int nameAt = Position;
            if (ParsePrimary() is not Identifier test)
            {
                throw source.Error("Expected a test name after 'is'", nameAt);
            }

            string? unsupported = Tests.Contains(test.Name) ? null : $"Unsupported test '{test.Name}'";
            operand = new TestNode(operand, negate, test.Name, at, unsupported);
        }

        return operand;
    }

    private Node ParseFilter()
    {
        var operand = ParseSign();
        while (Is(TokenKind.Pipe))
        {
            current++;
            int nameAt = Position;
            if (ParsePrimary() is not Identifier filter)
            {
                throw source.Error("Expected a filter name after '|'", nameAt);
            }

            string? unsupported = Filters.Contains(filter.Name) ? null : $"Unsupported filter '{filter.Name}'";
            List<Node>? arguments = null;
            if (Is(TokenKind.OpenParen))
            {
                arguments = ParseArguments(parameters: false);
                if (Is(TokenKind.Dot) || Is(TokenKind.OpenSquare) || Is(TokenKind.OpenParen))
                {
                    throw Error("Member access or call directly on a filter's arguments is not supported");
                }
            }

            operand = new FilterNode(operand, filter.Name, arguments, nameAt, unsupported);
        }

        return operand;
    }

    private Node ParseSign()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error("Template nests too deeply");
        }

        if (current < tokens.Count && tokens[current].Kind is TokenKind.Unary or TokenKind.Additive
            && tokens[current].Value is "-" or "+")
        {
            var op = tokens[current++];
            return new UnaryNode(op.Value, ParseSign(), op.Position);
        }

        var member = ParseMember(ParsePrimary());
        return Is(TokenKind.OpenParen) ? ParseCall(member) : member;
    }

    private Node ParseCall(Node callee)
    {
        Node expression = new CallNode(callee, ParseArguments(parameters: false), callee.Position);
        expression = ParseMember(expression);
        return Is(TokenKind.OpenParen) ? ParseCall(expression) : expression;
    }

    private List<Node> ParseArguments(bool parameters)
    {
        Expect(TokenKind.OpenParen, "(");
        var arguments = new List<Node>();
        var names = new HashSet<string>();
        bool sawKeyword = false, sawSpread = false;
        while (!Is(TokenKind.CloseParen))
        {
            int at = Position;
            bool keywordSpread = Is(TokenKind.Exponent);
            bool spread = Is(TokenKind.Multiplicative) && Peek.Value == "*";
            if (parameters && (keywordSpread || spread))
            {
                throw Error("Argument unpacking is not allowed in parameter declarations");
            }

            if (keywordSpread)
            {
                current++;
                arguments.Add(new KeywordSpreadArgument(ParseExpression(), at));
                if (Is(TokenKind.Comma))
                {
                    current++;
                }

                if (!Is(TokenKind.CloseParen))
                {
                    throw Error("`**` must be applied to the final argument");
                }

                break;
            }

            if (spread)
            {
                if (sawSpread)
                {
                    throw Error("Only one `*` argument unpacking is allowed");
                }

                sawSpread = true;
                current++;
                arguments.Add(new SpreadArgument(ParseExpression(), at));
                if (Is(TokenKind.Comma))
                {
                    current++;
                }

                continue;
            }

            var argument = ParseExpression();
            if (Is(TokenKind.Equals))
            {
                current++;
                if (argument is not Identifier key)
                {
                    throw source.Error("Expected a name before '='", at);
                }

                argument = new KeywordArgument(key.Name, ParseExpression(), at);
            }

            if (parameters)
            {
                string name = argument switch
                {
                    Identifier id => id.Name,
                    KeywordArgument kw => kw.Name,
                    _ => throw source.Error("Expected a parameter name", at),
                };
                if (!names.Add(name))
                {
                    throw source.Error($"Duplicate parameter name: {name}", at);
                }
            }

            if (argument is KeywordArgument)
            {
                sawKeyword = true;
            }
            else if (sawKeyword)
            {
                throw source.Error(parameters ? "Non-default argument follows default argument" : "Positional arguments must come before keyword arguments", at);
            }
            else if (sawSpread)
            {
                throw source.Error("Positional arguments must not follow `*` argument unpacking", at);
            }

            arguments.Add(argument);
            if (Is(TokenKind.Comma))
            {
                current++;
            }
        }

        current++;
        return arguments;
    }

    private Node ParseMember(Node target)
    {
        while (Is(TokenKind.Dot) || Is(TokenKind.OpenSquare))
        {
            var op = tokens[current++];
            if (op.Kind == TokenKind.OpenSquare)
            {
                var property = ParseSubscript(op.Position);
                Expect(TokenKind.CloseSquare, "]");
                target = new MemberNode(target, property, true, op.Position);
            }
            else
            {
                var property = ParsePrimary();
                if (property is not (Identifier or IntegerLiteral))
                {
                    throw source.Error("Expected a name or an integer after '.'", property.Position);
                }

                target = new MemberNode(target, property, false, op.Position);
            }
        }

        return target;
    }

    private Node ParseSubscript(int at)
    {
        var parts = new List<Node?>();
        bool isSlice = false;
        while (!Is(TokenKind.CloseSquare))
        {
            if (Is(TokenKind.Colon))
            {
                parts.Add(null);
                current++;
                isSlice = true;
            }
            else
            {
                parts.Add(ParseExpression());
                if (Is(TokenKind.Colon))
                {
                    current++;
                    isSlice = true;
                }
            }
        }

        if (parts.Count == 0)
        {
            throw source.Error("Expected an index or a slice", at);
        }

        if (!isSlice)
        {
            return parts[0]!;
        }

        if (parts.Count > 3)
        {
            throw source.Error("A slice takes at most three parts", at);
        }

        return new SliceNode(parts[0], parts.ElementAtOrDefault(1), parts.ElementAtOrDefault(2), at);
    }

    private Node ParsePrimary()
    {
        var token = Peek;
        current++;
        switch (token.Kind)
        {
            case TokenKind.Numeric:
                return token.Value.Contains('.', StringComparison.Ordinal)
                    ? new FloatLiteral(double.Parse(token.Value, CultureInfo.InvariantCulture), token.Position)
                    : new IntegerLiteral(long.Parse(token.Value, CultureInfo.InvariantCulture), token.Position);
            case TokenKind.String:
                string value = token.Value;
                while (Is(TokenKind.String))
                {
                    value += tokens[current++].Value;
                }

                return new StringLiteral(value, token.Position);
            case TokenKind.Identifier:
                return new Identifier(token.Value, token.Position);
            case TokenKind.OpenParen:
                var inner = ParseExpressionSequence();
                Expect(TokenKind.CloseParen, ")");
                return inner;
            case TokenKind.OpenSquare:
                var items = new List<Node>();
                while (!Is(TokenKind.CloseSquare))
                {
                    items.Add(ParseExpression());
                    if (Is(TokenKind.Comma))
                    {
                        current++;
                    }
                }

                current++;
                return new ListLiteral(items, token.Position);
            case TokenKind.OpenCurly:
                var entries = new List<(Node, Node)>();
                while (!Is(TokenKind.CloseCurly))
                {
                    var key = ParseExpression();
                    Expect(TokenKind.Colon, "':' between key and value");
                    entries.Add((key, ParseExpression()));
                    if (Is(TokenKind.Comma))
                    {
                        current++;
                    }
                }

                current++;
                return new DictLiteral(entries, token.Position);
            default:
                throw source.Error($"Unexpected '{token.Value}'", token.Position);
        }
    }
}
