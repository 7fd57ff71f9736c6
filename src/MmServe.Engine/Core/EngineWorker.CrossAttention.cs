using MmServe.Engine.Scheduling;

namespace MmServe.Engine.Core;

/// <summary>
/// Gated cross-attention sequences: the request's media go to the executor on the sequence's prefill row only; the
/// executor derives the cross-attention KV from them once and keeps it with the sequence, and
/// <see cref="EngineWorker.ReleaseSlot"/> frees it with the self-attention KV (finish, cancel, failure, shutdown alike).
/// </summary>
internal sealed partial class EngineWorker
{
    private void AttachCrossAttention(ScheduledSequence item)
    {
        if (item.IsPrefill && item.Sequence.Request.CrossAttention is { } media)
        {
            _inputs[^1] = _inputs[^1] with { CrossAttention = media };
        }
    }
}
