namespace MmServe.Model.Bundle;

/// <summary>
/// manifest.json "input_modalities.&lt;name&gt;.instruction": an instruction-aware projector (InstructBLIP's Q-Former)
/// also reads the text the item came with. The server feeds it the token ids of that text as the projector inputs
/// named here, so the same image under another question gets other embeddings.
/// </summary>
public sealed record ProjectorInstructionSpec
{
    /// <summary>The only text source defined: the text parts of the message that holds the item (see <see cref="Source"/>).</summary>
    public const string SourceMessageText = "message_text";

    /// <summary>
    /// <see cref="SourceMessageText"/>: the text parts of the item's own message, joined with the chat template's
    /// part_separator, tokenized as plain text (no special tokens), the first <see cref="MaxTokens"/> ids kept.
    /// </summary>
    public required string Source { get; init; }

    /// <summary>Projector input [batch, max_tokens] int64: the ids, padded with <see cref="PadToken"/>.</summary>
    public required string IdsInput { get; init; }

    /// <summary>Projector input [batch, max_tokens] int64: 1 for an instruction id, 0 for padding.</summary>
    public required string MaskInput { get; init; }

    public required int MaxTokens { get; init; }

    public required string PadToken { get; init; }
}
