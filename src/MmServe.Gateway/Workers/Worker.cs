using MmServe.Gateway.Discovery;

namespace MmServe.Gateway.Workers;

/// <summary>
/// What the gateway knows about one worker: health (active checks, and passive marks on transport failures), the
/// models it serves (its /v1/models), its last load report (/load) and the requests the gateway has in flight on it.
/// Written by the monitor and the forwarder, read by the routing policy; every field is safe to read at any time.
/// </summary>
internal sealed class Worker(WorkerAddress address)
{
    private volatile bool _healthy;
    private volatile IReadOnlySet<string>? _models;
    private volatile LoadSample? _load;
    private int _inFlight;
    private long _modelsFetchedAt;

    public WorkerAddress Address { get; } = address;

    public string Name { get; } = address.Name;

    public bool Healthy => _healthy;

    /// <summary>The served model ids, or null until the worker has answered /v1/models.</summary>
    public IReadOnlySet<string>? Models => _models;

    public LoadSample? Load => _load;

    /// <summary>Requests this gateway is forwarding to the worker right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Monotonic timestamp (TimeProvider) of the last /v1/models answer.</summary>
    public long ModelsFetchedAt => Interlocked.Read(ref _modelsFetchedAt);

    /// <returns>True when this changed the state.</returns>
    public bool SetHealthy(bool healthy)
    {
        bool was = _healthy;
        _healthy = healthy;
        if (!healthy)
        {
            _load = null;
        }

        return was != healthy;
    }

    public void SetModels(IReadOnlySet<string> models, long timestamp)
    {
        _models = models;
        Interlocked.Exchange(ref _modelsFetchedAt, timestamp);
    }

    /// <summary>A /load answer: requests waiting + running over all models, as of <paramref name="timestamp"/>.</summary>
    public void ReportLoad(int waitingAndRunning, long timestamp) => _load = new LoadSample(waitingAndRunning, InFlight, timestamp);

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Leave() => Interlocked.Decrement(ref _inFlight);

    public override string ToString() => Name;
}

/// <summary>A worker's load report.</summary>
/// <param name="WaitingAndRunning">What the worker reported: its engines' waiting + running requests.</param>
/// <param name="InFlightAtSample">The gateway's own in-flight count on the worker when the report arrived.</param>
/// <param name="Timestamp">When it arrived (TimeProvider timestamp).</param>
internal sealed record LoadSample(int WaitingAndRunning, int InFlightAtSample, long Timestamp);
