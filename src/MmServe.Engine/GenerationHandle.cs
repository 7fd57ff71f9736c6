using System.Threading.Channels;
using MmServe.Abstractions;

namespace MmServe.Engine;

/// <summary>
/// A submitted request's output stream. A request refused at admission has <see cref="Rejection"/> set (so the
/// API can answer with a plain HTTP error before streaming) and its <see cref="Events"/> hold only that error.
/// </summary>
public sealed class GenerationHandle
{
    internal GenerationHandle(string requestId, long sequenceId, ChannelReader<GenerationEvent> events, EngineError? rejection)
    {
        RequestId = requestId;
        SequenceId = sequenceId;
        Events = events;
        Rejection = rejection;
    }

    public string RequestId { get; }

    /// <summary>Deltas, then one <see cref="FinishedEvent"/> or <see cref="ErrorEvent"/>; the reader then completes.</summary>
    public ChannelReader<GenerationEvent> Events { get; }

    /// <summary>Why the request was refused before queueing, or null when it was admitted.</summary>
    public EngineError? Rejection { get; }

    public bool IsRejected => Rejection is not null;

    /// <summary>Id the executor sees; 0 when rejected.</summary>
    internal long SequenceId { get; }
}
