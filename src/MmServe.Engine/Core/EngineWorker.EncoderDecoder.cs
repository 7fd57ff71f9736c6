using MmServe.Engine.Scheduling;

namespace MmServe.Engine.Core;

/// <summary>
/// Encoder-decoder sequences (docs/architecture.md, "Encoder-decoder sequences"): the request's encoder output
/// goes to the executor on the sequence's first decoder step only; the executor turns it into cross-attention KV
/// kept with the sequence, and <see cref="EngineWorker.ReleaseSlot"/> frees both KVs together (finish, cancel,
/// failure, shutdown alike). Nothing else in the loop differs from a decoder-only model.
/// </summary>
internal sealed partial class EngineWorker
{
    /// <summary>Adds the encoder output to the row just built for <paramref name="item"/> when it is a first step.</summary>
    private void AttachEncoder(ScheduledSequence item)
    {
        if (item.IsPrefill && item.Sequence.Request.Encoder is { } encoder)
        {
            _inputs[^1] = _inputs[^1] with { Encoder = encoder };
        }
    }
}
