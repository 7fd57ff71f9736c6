using MmServe.Gateway.Discovery;

namespace MmServe.Gateway.Workers;

/// <summary>The current workers (an immutable snapshot, replaced when discovery changes it).</summary>
internal sealed class WorkerPool
{
    private readonly Lock _gate = new();
    private volatile Worker[] _workers = [];

    public IReadOnlyList<Worker> Workers => _workers;

    /// <summary>Makes the pool equal to <paramref name="addresses"/>: known workers keep their state.</summary>
    public (IReadOnlyList<Worker> Added, IReadOnlyList<Worker> Removed) Update(IReadOnlyList<WorkerAddress> addresses)
    {
        lock (_gate)
        {
            var current = _workers;
            var next = new List<Worker>(addresses.Count);
            var added = new List<Worker>();
            foreach (var address in addresses.Distinct())
            {
                var existing = current.FirstOrDefault(w => w.Address == address);
                if (existing is null)
                {
                    existing = new Worker(address);
                    added.Add(existing);
                }

                next.Add(existing);
            }

            var removed = current.Where(w => !next.Contains(w)).ToList();
            _workers = [.. next];
            return (added, removed);
        }
    }
}
