namespace MmServe.Model.Chat.Jinja;

// The syntax tree. Position is the node's offset in the preprocessed text (SourceText maps it back).
internal abstract record Node(int Position);

internal sealed record TextNode(string Text, int Position) : Node(Position);

internal sealed record CommentNode(int Position) : Node(Position);

internal sealed record OutputNode(Node Expression, int Position) : Node(Position);

internal sealed record IfNode(Node Test, List<Node> Body, List<Node> Alternate, int Position) : Node(Position);

internal sealed record ForNode(Node Target, Node Iterable, List<Node> Body, List<Node> Otherwise, int Position) : Node(Position);

internal sealed record SetNode(Node Target, Node? Value, List<Node> Body, int Position) : Node(Position);

internal sealed record MacroNode(string Name, List<Node> Parameters, List<Node> Body, int Position) : Node(Position);

/// <summary><c>{% call(params) macro(args) %}body{% endcall %}</c>: calls the macro with <c>caller</c> rendering the body.</summary>
internal sealed record CallBlockNode(List<Node> CallerParameters, CallNode Call, List<Node> Body, int Position) : Node(Position);

/// <summary><c>{% filter name(args) %}body{% endfilter %}</c>: the rendered body through a filter.</summary>
internal sealed record FilterBlockNode(string Name, List<Node>? Arguments, List<Node> Body, int Position, string? Unsupported) : Node(Position);

internal sealed record BreakNode(int Position) : Node(Position);

internal sealed record ContinueNode(int Position) : Node(Position);

internal sealed record IntegerLiteral(long Value, int Position) : Node(Position);

internal sealed record FloatLiteral(double Value, int Position) : Node(Position);

internal sealed record StringLiteral(string Value, int Position) : Node(Position);

internal sealed record ListLiteral(List<Node> Items, int Position) : Node(Position);

internal sealed record TupleLiteral(List<Node> Items, int Position) : Node(Position);

internal sealed record DictLiteral(List<(Node Key, Node Value)> Entries, int Position) : Node(Position);

internal sealed record Identifier(string Name, int Position) : Node(Position);

internal sealed record MemberNode(Node Target, Node Property, bool Computed, int Position) : Node(Position);

internal sealed record SliceNode(Node? Start, Node? Stop, Node? Step, int Position) : Node(Position);

internal sealed record CallNode(Node Callee, List<Node> Arguments, int Position) : Node(Position);

internal sealed record KeywordArgument(string Name, Node Value, int Position) : Node(Position);

/// <summary><c>*list</c> in a call's arguments.</summary>
internal sealed record SpreadArgument(Node Value, int Position) : Node(Position);

/// <summary><c>**mapping</c> as a call's last argument.</summary>
internal sealed record KeywordSpreadArgument(Node Value, int Position) : Node(Position);

internal sealed record BinaryNode(string Operator, Node Left, Node Right, int Position) : Node(Position);

internal sealed record UnaryNode(string Operator, Node Operand, int Position) : Node(Position);

/// <summary>
/// A filter application; Arguments is null when the filter is written without parentheses. Unsupported holds the
/// error for a filter this interpreter lacks: like the reference, it fails only if reached, since
/// real templates name such filters in branches that ordinary conversations never take (Llama 3.1's builtin_tools).
/// </summary>
internal sealed record FilterNode(Node Operand, string Name, List<Node>? Arguments, int Position, string? Unsupported = null) : Node(Position);

/// <summary>An <c>is</c> test; Unsupported as for <see cref="FilterNode"/>.</summary>
internal sealed record TestNode(Node Operand, bool Negate, string Name, int Position, string? Unsupported = null) : Node(Position);

internal sealed record TernaryNode(Node Condition, Node WhenTrue, Node WhenFalse, int Position) : Node(Position);

/// <summary><c>x if c</c> without an else: undefined when c is false (also the filter of a for loop).</summary>
internal sealed record SelectNode(Node Value, Node Condition, int Position) : Node(Position);
