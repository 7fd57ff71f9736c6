using MmServe.Abstractions;

namespace MmServe.Serving.CrossAttention;

/// <summary>
/// For a gated cross-attention model the prompt holds one marker token per item (its placeholder, tokens_per_item 1),
/// so the prompt preparer's media spans are one position long and carry the item's media tokens instead of
/// replacement embeddings. This turns them into the request's <see cref="CrossAttentionMedia"/>.
/// </summary>
public static class CrossAttentionPrompt
{
    /// <summary>(spans, null) for any other model or a request without media; otherwise ([], its cross-attention media).</summary>
    public static (IReadOnlyList<MediaEmbedding> Media, CrossAttentionMedia? CrossAttention) Split(IReadOnlyList<MediaEmbedding> media, ExecutorInfo model)
    {
        if (model.CrossAttention is not { } limits || media.Count == 0)
        {
            return (media, null);
        }

        var features = new float[media.Sum(m => m.Embeddings.Length)];
        int at = 0;
        foreach (var item in media)
        {
            item.Embeddings.Span.CopyTo(features.AsSpan(at));
            at += item.Embeddings.Length;
        }

        return ([], new CrossAttentionMedia([.. media.Select(m => m.Start)], features, limits.TokensPerItem, limits.Width));
    }
}
