namespace MmServe.Engine.Core;

/// <summary>
/// Counts admitted-but-not-started requests across all workers against MaxQueuedRequests, so overload is
/// answered at once with QueueFull instead of growing an unbounded backlog.
/// </summary>
internal sealed class AdmissionQueue(int capacity)
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _count) <= capacity)
        {
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _count);
}
