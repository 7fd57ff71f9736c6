using System.Globalization;
using System.Runtime.CompilerServices;

namespace MmServe.Model.Chat.Jinja;

// Expressions, from the loosest binding (ternary) to the tightest (primary), as the reference nests them.
internal sealed partial class Parser
{
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
