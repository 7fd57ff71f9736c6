using System.Runtime.CompilerServices;

namespace MmServe.Model.Chat.Jinja;

/// <summary>
/// Recursive-descent parser with @huggingface/jinja's grammar and precedence. Constructs this interpreter does not
/// implement (unknown statements such as include, extends, with, import) are rejected here, at parse time; unknown
/// filters and tests are recorded and fail when rendering reaches them (see <see cref="FilterNode"/>).
/// </summary>
internal sealed partial class Parser
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
}
