namespace MmServe.Gateway.Discovery;

/// <summary>Where the worker list comes from: configuration, or DNS re-resolved every <see cref="RefreshInterval"/>.</summary>
internal interface IWorkerSource
{
    /// <summary>How often to ask again; <see cref="Timeout.InfiniteTimeSpan"/> for a list that never changes.</summary>
    TimeSpan RefreshInterval { get; }

    ValueTask<IReadOnlyList<WorkerAddress>> ResolveAsync(CancellationToken ct);
}
