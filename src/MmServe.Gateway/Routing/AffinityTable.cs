namespace MmServe.Gateway.Routing;

/// <summary>
/// Which worker was last sent each medium or conversation prefix: a bounded LRU (Routing:AffinityCapacity entries,
/// about 100 bytes each). The worker's encoder cache is an LRU too, so an entry can outlive the cached output; the
/// cost of that is one encoder run, the same as without affinity.
/// </summary>
internal sealed class AffinityTable(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<AffinityKey, LinkedListNode<(AffinityKey Key, string Worker)>> _map = [];
    private readonly LinkedList<(AffinityKey Key, string Worker)> _order = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _map.Count;
            }
        }
    }

    public string? Find(AffinityKey key)
    {
        lock (_gate)
        {
            if (!_map.TryGetValue(key, out var node))
            {
                return null;
            }

            _order.Remove(node);
            _order.AddFirst(node);
            return node.Value.Worker;
        }
    }

    public void Record(IEnumerable<AffinityKey> keys, string worker)
    {
        if (capacity == 0)
        {
            return;
        }

        lock (_gate)
        {
            foreach (var key in keys)
            {
                if (_map.TryGetValue(key, out var node))
                {
                    _order.Remove(node);
                    node.Value = (key, worker);
                    _order.AddFirst(node);
                    continue;
                }

                if (_map.Count >= capacity)
                {
                    var oldest = _order.Last!;
                    _order.RemoveLast();
                    _map.Remove(oldest.Value.Key);
                }

                _map[key] = _order.AddFirst((key, worker));
            }
        }
    }
}
