using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Discovery;

/// <summary>
/// Keeps <see cref="WorkerPool"/> equal to what the source reports: resolved at start, then every refresh interval.
/// A failed resolution keeps the previous list (a DNS hiccup must not empty the pool); workers that are gone are
/// dropped, new ones join unhealthy until their first health check passes.
/// </summary>
internal sealed partial class WorkerDiscoveryService(IWorkerSource source, WorkerPool pool, ILogger<WorkerDiscoveryService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await RefreshAsync(stoppingToken).ConfigureAwait(false);
            if (source.RefreshInterval == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            try
            {
                await Task.Delay(source.RefreshInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One resolution applied to the pool; returns false when it failed and the pool was left alone.</summary>
    public async Task<bool> RefreshAsync(CancellationToken ct)
    {
        IReadOnlyList<WorkerAddress> addresses;
        try
        {
            addresses = await source.ResolveAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.ResolveFailed(logger, e.Message);
            return false;
        }

        var (added, removed) = pool.Update(addresses);
        foreach (var worker in added)
        {
            Log.Added(logger, worker.Name, worker.Address.Rest, worker.Address.Grpc ?? "none");
        }

        foreach (var worker in removed)
        {
            Log.Removed(logger, worker.Name);
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Worker {Worker} joined the pool (REST {Rest}, gRPC {Grpc}).")]
        public static partial void Added(ILogger logger, string worker, string rest, string grpc);

        [LoggerMessage(2, LogLevel.Information, "Worker {Worker} left the pool.")]
        public static partial void Removed(ILogger logger, string worker);

        [LoggerMessage(3, LogLevel.Warning, "Resolving the workers failed ({Reason}); keeping the previous list.")]
        public static partial void ResolveFailed(ILogger logger, string reason);
    }
}
