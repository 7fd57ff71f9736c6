namespace MmServe.Engine;

/// <summary>A point-in-time view of the engine (read without locks, so counts of different workers may be a step apart).</summary>
/// <param name="QueuedRequests">Admitted requests not yet started, counted against MaxQueuedRequests.</param>
/// <param name="Workers">One entry per worker.</param>
public sealed record EngineStats(int QueuedRequests, IReadOnlyList<WorkerStats> Workers)
{
    public int Running => Workers.Sum(w => w.Running);

    public int Waiting => Workers.Sum(w => w.Waiting);

    public long Steps => Workers.Sum(w => w.Steps);

    public long ReleasedSlots => Workers.Sum(w => w.ReleasedSlots);
}

/// <summary>One worker's counters.</summary>
/// <param name="Active">Requests assigned and not finished (the dispatch load).</param>
/// <param name="Running">Sequences in the running batch.</param>
/// <param name="Waiting">Sequences waiting for their prefill.</param>
/// <param name="Steps">Forward passes attempted.</param>
/// <param name="ReleasedSlots">Executor KV slots freed (finished, cancelled or failed sequences).</param>
/// <param name="FailedSteps">Forward passes that threw.</param>
public sealed record WorkerStats(int Active, int Running, int Waiting, long Steps, long ReleasedSlots, long FailedSteps);
