using MmServe.Abstractions;
using MmServe.Model.Chat;

namespace MmServe.Serving.Media;

/// <summary>
/// Lays a Fuyu item out in its prompt run (rows x (cols + 1) positions): each grid row's patch embeddings, then the
/// row-break token, whose position keeps its ordinary token embedding — so the decoder sees the row breaks as the
/// model was trained, and the prompt's ids show them.
/// </summary>
public static class RowBreakRuns
{
    /// <summary>Writes the row-break id after every row of <paramref name="span"/> in <paramref name="ids"/>; returns the rows' embeddings.</summary>
    /// <exception cref="InvalidOperationException">The span's length is not the item's rows x (cols + 1).</exception>
    public static IEnumerable<MediaEmbedding> Place(int[] ids, MediaSpan span, float[] encoded, int rowBreakId, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var (rows, cols) = FuyuMediaItem.Grid(encoded);
        if (span.Length != rows * (cols + 1))
        {
            throw new InvalidOperationException($"the prompt's run of {span.Length} positions does not fit a {rows}x{cols} patch grid with row breaks");
        }

        var embeddings = FuyuMediaItem.Embeddings(encoded, hiddenSize);
        var placed = new List<MediaEmbedding>(rows);
        for (int r = 0; r < rows; r++)
        {
            int start = span.Start + (r * (cols + 1));
            ids[start + cols] = rowBreakId;
            placed.Add(new MediaEmbedding(start, cols, embeddings.Slice(r * cols * hiddenSize, cols * hiddenSize)));
        }

        return placed;
    }
}
