namespace MmServe.Abstractions;

public sealed partial record SequenceInput
{
    /// <summary>
    /// The sequence's token types (visual-expert decoders), the same object on every step; null means every position is
    /// text. Executors whose decoder has no token type input ignore it.
    /// </summary>
    public SequenceTokenTypes? TokenTypes { get; init; }
}
