using System.Globalization;
using System.Text;

namespace MmServe.Model.Chat.Jinja;

/// <summary>Splits preprocessed template text into tokens, with @huggingface/jinja's rules (whitespace control included).</summary>
internal sealed class Lexer
{
    // Longest sequences first where they share a prefix ("**" before "*", "//" before "/", "<=" before "<").
    private static readonly (string Sequence, TokenKind Kind)[] Table =
    [
        ("{%", TokenKind.OpenStatement), ("%}", TokenKind.CloseStatement),
        ("{{", TokenKind.OpenExpression), ("}}", TokenKind.CloseExpression),
        ("(", TokenKind.OpenParen), (")", TokenKind.CloseParen),
        ("{", TokenKind.OpenCurly), ("}", TokenKind.CloseCurly),
        ("[", TokenKind.OpenSquare), ("]", TokenKind.CloseSquare),
        (",", TokenKind.Comma), (".", TokenKind.Dot), (":", TokenKind.Colon), ("|", TokenKind.Pipe),
        ("<=", TokenKind.Comparison), (">=", TokenKind.Comparison), ("==", TokenKind.Comparison),
        ("!=", TokenKind.Comparison), ("<", TokenKind.Comparison), (">", TokenKind.Comparison),
        ("+", TokenKind.Additive), ("-", TokenKind.Additive), ("~", TokenKind.Additive),
        ("**", TokenKind.Exponent), ("*", TokenKind.Multiplicative), ("//", TokenKind.Multiplicative),
        ("/", TokenKind.Multiplicative), ("%", TokenKind.Multiplicative),
        ("=", TokenKind.Equals),
    ];

    private readonly SourceText source;
    private readonly string src;
    private readonly List<Token> tokens = [];
    private int pos;

    private Lexer(SourceText source)
    {
        this.source = source;
        src = source.Text;
    }

    public static List<Token> Tokenize(SourceText source) => new Lexer(source).Run();

    internal static bool IsJsWhitespace(char c) =>
        c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r' or '\u00a0' or '\u1680' or '\u2028' or '\u2029'
            or '\u202f' or '\u205f' or '\u3000' or '\ufeff' || (c >= '\u2000' && c <= '\u200a');

    private static bool IsWord(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private char At(int i) => i < src.Length ? src[i] : '\0';

    private bool StartsWith(string s) => string.CompareOrdinal(src, pos, s, 0, s.Length) == 0 && pos + s.Length <= src.Length;

    private TokenKind? LastKind => tokens.Count > 0 ? tokens[^1].Kind : null;

    private List<Token> Run()
    {
        int curlyDepth = 0;
        while (pos < src.Length)
        {
            if (LastKind is null or TokenKind.CloseStatement or TokenKind.CloseExpression or TokenKind.Comment)
            {
                int start = pos;
                while (pos < src.Length && !(src[pos] == '{' && At(pos + 1) is '%' or '{' or '#'))
                {
                    pos++;
                }

                if (pos > start)
                {
                    tokens.Add(new Token(TokenKind.Text, src[start..pos], start));
                    continue;
                }
            }

            if (src[pos] == '{' && At(pos + 1) == '#')
            {
                LexComment();
                continue;
            }

            if (StartsWith("{%-") || StartsWith("{{-"))
            {
                StripTrailingWhitespace();
                bool statement = src[pos + 1] == '%';
                tokens.Add(new Token(statement ? TokenKind.OpenStatement : TokenKind.OpenExpression, statement ? "{%" : "{{", pos));
                if (!statement)
                {
                    curlyDepth = 0;
                }

                pos += 3;
                continue;
            }

            ConsumeWhile(IsJsWhitespace);
            if (StartsWith("-%}") || StartsWith("-}}"))
            {
                bool statement = src[pos + 1] == '%';
                tokens.Add(new Token(statement ? TokenKind.CloseStatement : TokenKind.CloseExpression, statement ? "%}" : "}}", pos));
                pos += 3;
                while (pos < src.Length && IsJsWhitespace(src[pos]))
                {
                    pos++;
                }

                continue;
            }

            char c = src[pos];
            if (c is '-' or '+' && LexSign(c))
            {
                continue;
            }

            if (LexFromTable(ref curlyDepth))
            {
                continue;
            }

            int tokenStart = pos;
            if (c is '\'' or '"')
            {
                pos++;
                string value = ConsumeWhile(ch => ch != c);
                tokens.Add(new Token(TokenKind.String, value, tokenStart));
                pos++;
                continue;
            }

            if (IsDigit(c))
            {
                string number = ConsumeWhile(IsDigit);
                if (LastKind != TokenKind.Dot && At(pos) == '.' && IsDigit(At(pos + 1)))
                {
                    pos++;
                    number += "." + ConsumeWhile(IsDigit);
                }

                tokens.Add(new Token(TokenKind.Numeric, number, tokenStart));
                continue;
            }

            if (IsWord(c))
            {
                tokens.Add(new Token(TokenKind.Identifier, ConsumeWhile(IsWord), tokenStart));
                continue;
            }

            throw source.Error($"Unexpected character: {c}", pos);
        }

        return tokens;
    }

    /// <summary>A sign after an operand is a binary operator (left to the table); elsewhere it is unary, or part of a number.</summary>
    private bool LexSign(char c)
    {
        switch (LastKind)
        {
            case null or TokenKind.Text:
                throw source.Error($"Unexpected character: {c}", pos);
            case TokenKind.Identifier or TokenKind.Numeric or TokenKind.String or TokenKind.CloseParen or TokenKind.CloseSquare:
                return false;
        }

        int start = pos++;
        string number = ConsumeWhile(IsDigit);
        if (number.Length > 0 && At(pos) == '.' && IsDigit(At(pos + 1)))
        {
            pos++;
            number += "." + ConsumeWhile(IsDigit);
        }

        tokens.Add(new Token(number.Length > 0 ? TokenKind.Numeric : TokenKind.Unary, c + number, start));
        return true;
    }

    private bool LexFromTable(ref int curlyDepth)
    {
        foreach (var (sequence, kind) in Table)
        {
            // Inside an object literal "}}" closes two braces, not the expression.
            if (sequence == "}}" && curlyDepth > 0)
            {
                continue;
            }

            if (!StartsWith(sequence))
            {
                continue;
            }

            tokens.Add(new Token(kind, sequence, pos));
            curlyDepth = kind switch
            {
                TokenKind.OpenExpression => 0,
                TokenKind.OpenCurly => curlyDepth + 1,
                TokenKind.CloseCurly => curlyDepth - 1,
                _ => curlyDepth,
            };
            pos += sequence.Length;
            return true;
        }

        return false;
    }

    private void LexComment()
    {
        int start = pos;
        pos += 2;
        bool stripBefore = At(pos) == '-';
        if (stripBefore)
        {
            pos++;
        }

        int bodyStart = pos;
        while (At(pos) != '#' || At(pos + 1) != '}')
        {
            if (pos + 2 >= src.Length)
            {
                throw source.Error("Missing end of comment tag", start);
            }

            pos++;
        }

        string comment = src[bodyStart..pos];
        bool stripAfter = comment.EndsWith('-');
        if (stripBefore)
        {
            StripTrailingWhitespace();
        }

        tokens.Add(new Token(TokenKind.Comment, stripAfter ? comment[..^1] : comment, start));
        pos += 2;
        if (stripAfter)
        {
            while (pos < src.Length && IsJsWhitespace(src[pos]))
            {
                pos++;
            }
        }
    }

    private void StripTrailingWhitespace()
    {
        if (tokens.Count > 0 && tokens[^1].Kind == TokenKind.Text)
        {
            tokens[^1].Value = tokens[^1].Value.TrimEnd(JsWhitespaceChars);
            if (tokens[^1].Value.Length == 0)
            {
                tokens.RemoveAt(tokens.Count - 1);
            }
        }
    }

    internal static readonly char[] JsWhitespaceChars =
        [.. Enumerable.Range(0, 0x10000).Select(i => (char)i).Where(IsJsWhitespace)];

    /// <summary>Consumes while <paramref name="predicate"/> holds, decoding backslash escapes; running off the end is an error.</summary>
    private string ConsumeWhile(Func<char, bool> predicate)
    {
        var text = new StringBuilder();
        while (predicate(At(pos)) && pos < src.Length)
        {
            if (src[pos] == '\\')
            {
                pos++;
                if (pos >= src.Length)
                {
                    throw source.Error("Unexpected end of input", pos);
                }

                char escaped = src[pos++];
                if (escaped is 'x' or 'u')
                {
                    int length = escaped == 'x' ? 2 : 4;
                    string hex = pos + length <= src.Length ? src.Substring(pos, length) : src[pos..];
                    if (hex.Length != length || !int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                    {
                        throw source.Error($"Invalid hexadecimal escape sequence: \\{escaped}{hex}", pos);
                    }

                    text.Append((char)code);
                    pos += length;
                    continue;
                }

                text.Append(escaped switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\b',
                    'f' => '\f',
                    'v' => '\v',
                    '\'' or '"' or '\\' => escaped,
                    _ => throw source.Error($"Unexpected escaped character: {escaped}", pos - 1),
                });
                continue;
            }

            text.Append(src[pos++]);
            if (pos >= src.Length)
            {
                throw source.Error("Unexpected end of input", pos);
            }
        }

        return text.ToString();
    }
}
