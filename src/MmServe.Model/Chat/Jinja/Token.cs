namespace MmServe.Model.Chat.Jinja;

internal enum TokenKind
{
    Text,
    Numeric,
    String,
    Identifier,
    Equals,
    OpenParen,
    CloseParen,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    OpenSquare,
    CloseSquare,
    OpenCurly,
    CloseCurly,
    Comma,
    Dot,
    Colon,
    Pipe,
    Additive,
    Multiplicative,
    Exponent,
    Comparison,
    Unary,
    Comment,
}

/// <summary>A token; <see cref="Position"/> is the offset in the original (not preprocessed) source, for error messages.</summary>
internal sealed record Token(TokenKind Kind, string Value, int Position)
{
    public string Value { get; set; } = Value;
}
