namespace MmServe.Abstractions;

/// <summary>
/// The token type of every position of one sequence, for decoders with a token_type_ids input (CogVLM's visual
/// expert: 1 routes a position through the expert weights, 0 through the language weights). The model adapter sets the
/// prompt's types once when it builds the prompt; every later token (generated text) has <see cref="TextType"/>.
/// The engine only carries it; the executor reads it for every row it feeds, prefill or decode. Immutable.
/// </summary>
public sealed class SequenceTokenTypes
{
    private readonly int[] _prompt;

    /// <param name="promptTypes">One type per prompt token (copied).</param>
    /// <param name="textType">The type of every token after the prompt.</param>
    public SequenceTokenTypes(ReadOnlySpan<int> promptTypes, int textType)
    {
        _prompt = promptTypes.ToArray();
        TextType = textType;
    }

    public int PromptLength => _prompt.Length;

    public int TextType { get; }

    /// <summary>The type of token <paramref name="index"/>.</summary>
    public int At(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return index < _prompt.Length ? _prompt[index] : TextType;
    }

    public ReadOnlySpan<int> Prompt => _prompt;
}
