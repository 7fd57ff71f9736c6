using Microsoft.Extensions.Options;
using MmServe.Engine;
using MmServe.Serving;
using MmServe.Serving.Models;

namespace MmServe.Api.Hosting;

/// <summary>
/// What a SIGTERM does, in the order Kubernetes and a gateway need it:
/// <list type="number">
/// <item>/health/ready (and grpc.health.v1) turn not-ready at once;</item>
/// <item>for Shutdown:DrainDelay the server keeps accepting and serving, so a load balancer that has not yet seen the
/// probe fail loses no request. This runs in <see cref="StoppingAsync"/>, which the host awaits before it stops any
/// hosted service, Kestrel included, so the listener stays open through it;</item>
/// <item>then Kestrel stops accepting and waits for the requests in flight; after Engine:ShutdownTimeout every
/// generation still running is ended (<see cref="ModelInstance.StopGenerating"/>: finish_reason "abort" with the
/// text so far, an error event, or UNAVAILABLE), so each response still ends properly before the host's own timeout
/// (<see cref="ShutdownOptions.HostMargin"/> later) would cut its connection.</item>
/// </list>
/// </summary>
internal sealed partial class GracefulShutdown(
    IOptions<ShutdownOptions> shutdown,
    IOptions<EngineOptions> engine,
    ModelReadiness readiness,
    ModelRegistry models,
    TimeProvider time,
    ILogger<GracefulShutdown> logger) : IHostedLifecycleService, IDisposable
{
    private ITimer? _deadline;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        readiness.MarkDraining();
        var delay = shutdown.Value.DrainDelay;
        var timeout = engine.Value.ShutdownTimeout;
        Log.Draining(logger, delay.TotalSeconds, timeout.TotalSeconds);
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The host's own timeout passed (it cannot while it is DrainDelay + timeout + margin): go on stopping.
            }
        }

        // From here Kestrel refuses new connections; the requests in flight get the engine's shutdown timeout.
        _deadline = time.CreateTimer(_ => StopGenerating(), null, timeout, Timeout.InfiniteTimeSpan);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Everything in flight finished before the deadline (Kestrel has stopped): nothing is left to end.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        _deadline?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _deadline?.Dispose();

    private void StopGenerating()
    {
        var running = models.All.Sum(m => m.Engine.Stats.Workers.Sum(w => w.Active));
        Log.DeadlinePassed(logger, engine.Value.ShutdownTimeout.TotalSeconds, running);
        foreach (var model in models.All)
        {
            model.StopGenerating();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Shutting down: not ready from now; serving new requests for {DrainDelaySeconds} s more, then requests in flight get {TimeoutSeconds} s to finish.")]
        public static partial void Draining(ILogger logger, double drainDelaySeconds, double timeoutSeconds);

        [LoggerMessage(2, LogLevel.Warning, "Shutting down: {TimeoutSeconds} s passed with {Requests} request(s) still generating; they end now (finish_reason \"abort\", or unavailable).")]
        public static partial void DeadlinePassed(ILogger logger, double timeoutSeconds, int requests);
    }
}
