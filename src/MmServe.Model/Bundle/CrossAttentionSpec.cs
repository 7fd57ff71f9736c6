using System.Globalization;

namespace MmServe.Model.Bundle;

/// <summary>
/// manifest.json "cross_attention" (family "gated_cross_attention": Flamingo, OpenFlamingo, IDEFICS): media do not
/// replace prompt embeddings; each item is one marker token in the prompt (its modality's placeholder, with
/// tokens_per_item 1), and its media tokens (the modality's encoder + projector output) enter the decoder through
/// gated cross-attention blocks. <see cref="Component"/> turns a request's media tokens into every block's key and
/// value once; the decoder takes them, plus a per-position mask saying which media tokens each position may see.
/// </summary>
public sealed record CrossAttentionSpec
{
    /// <summary>The value of <see cref="Attend"/> the server implements: a position sees the most recent item whose marker is at or before it.</summary>
    public const string AttendMostRecentItem = "most_recent_item";

    /// <summary>Replaced by the block index in <see cref="Key"/> and <see cref="Value"/>.</summary>
    public const string BlockPlaceholder = "{block}";

    /// <summary>The input modality whose items are cross-attended (its placeholder is the marker token).</summary>
    public required string Modality { get; init; }

    /// <summary>The cross-KV component: <see cref="MediaFeatures"/> [batch, media_tokens, hidden] in, key/value per block out.</summary>
    public required string Component { get; init; }

    /// <summary>The cross-KV component's input name.</summary>
    public required string MediaFeatures { get; init; }

    /// <summary>Media tokens one item contributes (the modality's projector output rows).</summary>
    public required int MediaTokensPerItem { get; init; }

    /// <summary>Most items one request may carry; more are refused (400).</summary>
    public required int MaxItems { get; init; }

    /// <summary>Cross-attention blocks in the decoder.</summary>
    public required int NumBlocks { get; init; }

    public required int NumHeads { get; init; }

    public required int HeadDim { get; init; }

    /// <summary>Name pattern of block i's key: an output of <see cref="Component"/> and an input of the decoder, [batch, heads, media_tokens, head_dim].</summary>
    public required string Key { get; init; }

    /// <summary>As <see cref="Key"/>, for the value.</summary>
    public required string Value { get; init; }

    /// <summary>Decoder input [batch, sequence, media_tokens] int64: 1 where the position may attend to the media token.</summary>
    public required string MediaMask { get; init; }

    /// <summary>Which items a text position sees; only <see cref="AttendMostRecentItem"/> is implemented.</summary>
    public required string Attend { get; init; }

    public string KeyName(int block) => ForBlock(Key, block);

    public string ValueName(int block) => ForBlock(Value, block);

    private static string ForBlock(string pattern, int block) =>
        pattern.Replace(BlockPlaceholder, block.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
