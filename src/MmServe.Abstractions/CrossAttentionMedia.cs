namespace MmServe.Abstractions;

/// <summary>
/// A gated cross-attention request's media (Flamingo, OpenFlamingo, IDEFICS): the media tokens of each item in prompt
/// order, and the prompt position of each item's marker token. A position p attends only to the media tokens of the
/// most recent item whose marker is at or before p (none before the first marker); generated tokens see the last item.
/// </summary>
public sealed record CrossAttentionMedia
{
    /// <param name="markerPositions">Prompt position of each item's marker token, strictly increasing.</param>
    /// <param name="features">Row-major items x <paramref name="tokensPerItem"/> x <paramref name="width"/> media tokens.</param>
    /// <param name="tokensPerItem">Media tokens of one item.</param>
    /// <param name="width">Width of one media token (the decoder's hidden size).</param>
    public CrossAttentionMedia(IReadOnlyList<int> markerPositions, ReadOnlyMemory<float> features, int tokensPerItem, int width)
    {
        ArgumentNullException.ThrowIfNull(markerPositions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokensPerItem);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (markerPositions.Count == 0)
        {
            throw new ArgumentException("A cross-attention request has at least one item.", nameof(markerPositions));
        }

        for (int i = 0; i < markerPositions.Count; i++)
        {
            if (markerPositions[i] < 0 || (i > 0 && markerPositions[i] <= markerPositions[i - 1]))
            {
                throw new ArgumentException("Marker positions must be non-negative and strictly increasing.", nameof(markerPositions));
            }
        }

        if (features.Length != (long)markerPositions.Count * tokensPerItem * width)
        {
            throw new ArgumentException(
                $"{markerPositions.Count} items of {tokensPerItem} x {width} need {(long)markerPositions.Count * tokensPerItem * width} values, not {features.Length}.",
                nameof(features));
        }

        MarkerPositions = markerPositions;
        Features = features;
        TokensPerItem = tokensPerItem;
        Width = width;
    }

    public IReadOnlyList<int> MarkerPositions { get; }

    public ReadOnlyMemory<float> Features { get; }

    public int TokensPerItem { get; }

    public int Width { get; }

    public int Items => MarkerPositions.Count;

    /// <summary>All media tokens of the request (items x tokens per item).</summary>
    public int MediaTokens => Items * TokensPerItem;

    /// <summary>The item position <paramref name="position"/> attends to: the last marker at or before it; -1 when none is.</summary>
    public int ItemAt(int position)
    {
        int item = -1;
        while (item + 1 < MarkerPositions.Count && MarkerPositions[item + 1] <= position)
        {
            item++;
        }

        return item;
    }
}
