namespace MmServe.Engine;

/// <summary>Engine tuning; bindable from configuration.</summary>
public sealed class EngineOptions
{
    /// <summary>Worker threads, each with its own executor; requests go to the least-loaded one.</summary>
    public int NumWorkers { get; set; } = 1;

    /// <summary>Requests admitted but not yet started, across workers; more are refused with QueueFull.</summary>
    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>Sequences per forward pass; 0 uses the executor's limit, a larger value is capped by it.</summary>
    public int MaxBatchSize { get; set; }

    /// <summary>
    /// Token budget of one forward pass (each decode counts 1, each prefill its prompt length). A prompt longer than
    /// the budget still runs, alone, so it cannot starve.
    /// </summary>
    public int MaxNumBatchedTokens { get; set; } = 2048;

    /// <summary>
    /// How long disposal waits for worker threads to finish their current step; the server also uses it as the host's
    /// shutdown timeout, so it bounds the drain of requests in flight on SIGTERM.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(NumWorkers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxQueuedRequests);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxNumBatchedTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownTimeout, TimeSpan.Zero);
    }
}
