namespace MmServe.Serving;

/// <summary>
/// Set once the warm-up generation has completed, and unset again when the host starts shutting down, so that
/// /health/ready and grpc.health.v1 turn load balancers away while in-flight requests drain.
/// </summary>
public sealed class ModelReadiness(IHostApplicationLifetime lifetime)
{
    private volatile bool _ready;

    public bool IsReady => _ready && !lifetime.ApplicationStopping.IsCancellationRequested;

    public void MarkReady() => _ready = true;

    /// <summary>
    /// Shutting down: not ready from now on. ApplicationStopping says the same once the host stops; this also covers
    /// the moment between SIGTERM and that.
    /// </summary>
    public void MarkDraining() => _ready = false;
}
