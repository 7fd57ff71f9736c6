namespace MmServe.Serving.Media;

/// <summary>
/// Encoder + projector outputs of media seen before, so a repeated image, clip or video (the same system image
/// in every request, a retried upload) skips decoding and encoding. Keyed by a SHA-256 of the media bytes plus
/// the modality's component and preprocessing configuration (see <see cref="MediaEmbedder"/>), bounded in bytes
/// and evicted least-recently-used first. Thread-safe; entries are shared read-only arrays.
/// </summary>
public sealed class EncoderOutputCache
{
    private readonly long _maxBytes;
    private readonly Dictionary<string, LinkedListNode<Entry>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new(); // most recently used first
    private readonly Lock _lock = new();
    private long _bytes;
    private long _hits;
    private long _misses;

    /// <param name="maxBytes">Budget for the cached floats; 0 turns the cache off.</param>
    public EncoderOutputCache(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        _maxBytes = maxBytes;
    }

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _index.Count;
            }
        }
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public bool TryGet(string key, out float[] embeddings)
    {
        lock (_lock)
        {
            if (_index.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                embeddings = node.Value.Embeddings;
                _hits++;
                return true;
            }

            _misses++;
        }

        embeddings = [];
        return false;
    }

    /// <summary>Adds (or refreshes) an entry, evicting the least recently used ones to stay within budget.</summary>
    public void Add(string key, float[] embeddings)
    {
        long size = SizeOf(key, embeddings);
        if (size > _maxBytes)
        {
            return; // larger than the whole budget (or the cache is off)
        }

        lock (_lock)
        {
            if (_index.TryGetValue(key, out var existing))
            {
                _recency.Remove(existing);
                _bytes -= existing.Value.Size;
                _index.Remove(key);
            }

            while (_bytes + size > _maxBytes && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _index.Remove(oldest.Value.Key);
                _bytes -= oldest.Value.Size;
            }

            _index[key] = _recency.AddFirst(new Entry(key, embeddings, size));
            _bytes += size;
        }
    }

    /// <summary>Floats plus the key and bookkeeping, so a flood of tiny entries is bounded too.</summary>
    private static long SizeOf(string key, float[] embeddings) => (embeddings.LongLength * sizeof(float)) + (key.Length * 2L) + 64;

    private sealed record Entry(string Key, float[] Embeddings, long Size);
}
