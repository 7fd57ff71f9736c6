using MmServe.Gateway.Options;

namespace MmServe.Gateway.Discovery;

/// <summary>Gateway:Workers, as configured.</summary>
internal sealed class StaticWorkerSource(IReadOnlyList<WorkerEntryOptions> entries) : IWorkerSource
{
    private readonly IReadOnlyList<WorkerAddress> _workers = [.. entries.Select(e => WorkerAddress.Create(e.Rest, e.Grpc))];

    public TimeSpan RefreshInterval => Timeout.InfiniteTimeSpan;

    public ValueTask<IReadOnlyList<WorkerAddress>> ResolveAsync(CancellationToken ct) => ValueTask.FromResult(_workers);
}
