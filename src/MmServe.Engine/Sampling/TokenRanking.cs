namespace MmServe.Engine.Sampling;

/// <summary>
/// Orders tokens by logit, highest first, ties to the lower id, so every selection is deterministic.
/// NaN logits rank last.
/// </summary>
internal static class TokenRanking
{
    public static bool Outranks(float logitA, int idA, float logitB, int idB) =>
        logitA > logitB || (logitA == logitB && idA < idB) || (float.IsNaN(logitB) && !float.IsNaN(logitA));

    /// <summary>Index of the highest logit, the lowest id among ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (Outranks(logits[i], i, logits[best], best))
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Writes the ids of the <paramref name="into"/>.Length best tokens, best first.</summary>
    public static void SelectTop(ReadOnlySpan<float> logits, Span<int> into)
    {
        int k = into.Length;
        if (k == 0)
        {
            return;
        }

        // Insertion into a sorted window: O(V) in practice because most tokens lose to the current k-th.
        int filled = 0;
        for (int id = 0; id < logits.Length; id++)
        {
            float logit = logits[id];
            if (filled == k && !Outranks(logit, id, logits[into[k - 1]], into[k - 1]))
            {
                continue;
            }

            int position = filled < k ? filled++ : k - 1;
            while (position > 0 && Outranks(logit, id, logits[into[position - 1]], into[position - 1]))
            {
                into[position] = into[position - 1];
                position--;
            }

            into[position] = id;
        }
    }

    /// <summary>Sorts token ids by rank over the full vocabulary.</summary>
    public static void SortAll(float[] logits, Span<int> ids)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = i;
        }

        ids.Sort(new Comparer(logits));
    }

    private readonly struct Comparer(float[] logits) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            if (x == y)
            {
                return 0;
            }

            return Outranks(logits[x], x, logits[y], y) ? -1 : 1;
        }
    }
}
