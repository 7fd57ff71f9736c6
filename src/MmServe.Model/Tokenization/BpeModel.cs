using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace MmServe.Model.Tokenization;

/// <summary>
/// HF "BPE" model: splits one pre-tokenized word into symbols and applies merges by rank, the lowest-ranked
/// (earliest) pair first and the leftmost on ties, exactly as tokenizers' word.rs does. A priority queue keeps
/// long words (a user can send 100 KB without a space) at O(n log n) instead of O(n²).
/// </summary>
internal sealed class BpeModel
{
    // HF's defaults: results of words shorter than 256 chars are cached, up to 10,000 words.
    private const int CacheCapacity = 10_000;
    private const int MaxCachedWordLength = 256;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly int? _unkId;
    private readonly bool _fuseUnk;
    private readonly bool _byteFallback;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private int _cacheCount;

    /// <param name="vocab">Must use ordinal comparison (span lookups depend on it).</param>
    public BpeModel(
        Dictionary<string, int> vocab,
        Dictionary<long, (int Rank, int NewId)> merges,
        int? unkId,
        bool fuseUnk,
        bool byteFallback,
        bool ignoreMerges)
    {
        _vocab = vocab;
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = merges;
        _unkId = unkId;
        _fuseUnk = fuseUnk;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;
    }

    /// <summary>The unknown token's id, if the model has one.</summary>
    public int? UnkId => _unkId;

    /// <summary>Whether consecutive unknown characters become one unknown token.</summary>
    public bool FuseUnk => _fuseUnk;

    /// <summary>Whether a character missing from the vocab becomes its UTF-8 bytes as &lt;0xNN&gt; tokens.</summary>
    public bool ByteFallback => _byteFallback;

    public static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>
    /// Span form for the hot path: a word already seen (vocab hit under ignore_merges, or cached) costs two hash
    /// lookups and no allocation; only a miss makes the word a string.
    /// </summary>
    public void Tokenize(ReadOnlySpan<char> word, List<int> output)
    {
        if (word.IsEmpty)
        {
            return;
        }

        if (_ignoreMerges && _vocabBySpan.TryGetValue(word, out var whole))
        {
            output.Add(whole);
            return;
        }

        if (_cacheBySpan.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }

        Tokenize(word.ToString(), output);
    }

    public void Tokenize(string word, List<int> output)
    {
        if (word.Length == 0)
        {
            return;
        }

        // Llama-3 style tokenizers set ignore_merges: a word that is itself a token is used as is.
        if (_ignoreMerges && _vocab.TryGetValue(word, out var whole))
        {
            output.Add(whole);
            return;
        }

        if (_cache.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }

        var ids = Merge(InitialSymbols(word));
        if (word.Length < MaxCachedWordLength && Volatile.Read(ref _cacheCount) < CacheCapacity
            && _cache.TryAdd(word, ids))
        {
            Interlocked.Increment(ref _cacheCount);
        }

        output.AddRange(ids);
    }

    /// <summary>One symbol per character; characters missing from the vocab follow HF (byte fallback, unk, or dropped).</summary>
    private List<int> InitialSymbols(string word)
    {
        var symbols = new List<int>(word.Length);
        var previousWasUnk = false;
        Span<char> text = stackalloc char[2];
        foreach (var rune in word.EnumerateRunes())
        {
            if (_vocabBySpan.TryGetValue(text[..rune.EncodeToUtf16(text)], out var id))
            {
                symbols.Add(id);
                previousWasUnk = false;
                continue;
            }

            if (_byteFallback && TryByteFallback(rune, symbols))
            {
                previousWasUnk = false;
                continue;
            }

            if (_unkId is { } unk)
            {
                if (!(_fuseUnk && previousWasUnk))
                {
                    symbols.Add(unk);
                }

                previousWasUnk = true;
            }
        }

        return symbols;
    }

    private bool TryByteFallback(Rune rune, List<int> symbols)
    {
        Span<byte> utf8 = stackalloc byte[4];
        var length = rune.EncodeToUtf8(utf8);
        var ids = new int[length];
        for (var i = 0; i < length; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"<0x{utf8[i]:X2}>");
            if (!_vocab.TryGetValue(name, out ids[i]))
            {
                return false;
            }
        }

        symbols.AddRange(ids);
        return true;
    }

    private int[] Merge(List<int> initial)
    {
        var n = initial.Count;
        if (n < 2)
        {
            return initial.ToArray();
        }

        // Doubly linked list over the symbol array; a merged-away symbol gets Alive = false.
        var ids = initial.ToArray();
        var prev = new int[n];
        var next = new int[n];
        var alive = new bool[n];
        for (var i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            alive[i] = true;
        }

        // Priority = rank << 32 | position: lowest rank first, leftmost on ties, compared as one long (a tuple
        // comparer costs about twice as much on words of millions of symbols, e.g. SentencePiece-style input
        // without a pre-tokenizer). The first pairs are heapified at once rather than enqueued one by one.
        var initialPairs = new List<(int, long)>(n - 1);
        for (var i = 0; i + 1 < n; i++)
        {
            if (_merges.TryGetValue(PairKey(ids[i], ids[i + 1]), out var merge))
            {
                initialPairs.Add((i, Priority(merge.Rank, i)));
            }
        }

        var queue = new PriorityQueue<int, long>(initialPairs);
        while (queue.TryDequeue(out var pos, out var priority))
        {
            var right = next[pos];
            // Entries go stale when a neighbour merged first; the pair must still be the one queued (a rank names
            // one pair, so an equal rank means the same merge, which is HF's check on the new id).
            if (!alive[pos] || right < 0
                || !_merges.TryGetValue(PairKey(ids[pos], ids[right]), out var merge) || merge.Rank != (int)(priority >> 32))
            {
                continue;
            }

            ids[pos] = merge.NewId;
            alive[right] = false;
            next[pos] = next[right];
            if (next[pos] >= 0)
            {
                prev[next[pos]] = pos;
            }

            if (prev[pos] >= 0)
            {
                Enqueue(queue, ids, prev[pos], pos);
            }

            if (next[pos] >= 0)
            {
                Enqueue(queue, ids, pos, next[pos]);
            }
        }

        var result = new List<int>(n);
        for (var i = 0; i >= 0; i = next[i])
        {
            result.Add(ids[i]);
        }

        return result.ToArray();
    }

    private static long Priority(int rank, int position) => ((long)rank << 32) | (uint)position;

    private void Enqueue(PriorityQueue<int, long> queue, int[] ids, int left, int right)
    {
        if (_merges.TryGetValue(PairKey(ids[left], ids[right]), out var merge))
        {
            queue.Enqueue(left, Priority(merge.Rank, left));
        }
    }
}
