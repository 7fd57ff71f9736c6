namespace MmServe.Model.Chat.Jinja;

/// <summary>
/// Sorts as V8's Array.prototype.sort does for short arrays (TimSort: the leading run, then binary insertion), so
/// that the comparator sees the same pairs in the same order and a failed comparison reports the same types.
/// Longer arrays use a stable sort with the same result.
/// </summary>
internal static class JsSort
{
    private const int InsertionLimit = 64;

    public static List<T> Sort<T>(IEnumerable<T> source, Comparison<T> compare)
    {
        var items = source.ToList();
        if (items.Count >= InsertionLimit)
        {
            try
            {
                return [.. items.Order(Comparer<T>.Create(compare))];
            }
            catch (InvalidOperationException e) when (e.InnerException is TemplateException inner)
            {
                // The framework's sort wraps the comparer's exception.
                throw inner;
            }
        }

        if (items.Count < 2)
        {
            return items;
        }

        int run = LeadingRun(items, compare);
        for (int start = run; start < items.Count; start++)
        {
            var pivot = items[start];
            int left = 0, right = start;
            while (left < right)
            {
                int mid = left + ((right - left) >> 1);
                if (compare(pivot, items[mid]) < 0)
                {
                    right = mid;
                }
                else
                {
                    left = mid + 1;
                }
            }

            items.RemoveAt(start);
            items.Insert(left, pivot);
        }

        return items;
    }

    /// <summary>The length of the ascending (or strictly descending, then reversed) run at the start.</summary>
    private static int LeadingRun<T>(List<T> items, Comparison<T> compare)
    {
        int length = 2;
        bool descending = compare(items[1], items[0]) < 0;
        var previous = items[1];
        for (int i = 2; i < items.Count; i++)
        {
            int order = compare(items[i], previous);
            if (descending ? order >= 0 : order < 0)
            {
                break;
            }

            previous = items[i];
            length++;
        }

        if (descending)
        {
            items.Reverse(0, length);
        }

        return length;
    }
}
