using System.Diagnostics;
using MmServe.Abstractions;
using MmServe.Engine.Core;

namespace MmServe.Engine.Scheduling;

/// <summary>
/// Iteration-level continuous batching (vLLM v1 style, without chunked prefill). Every step decodes one token for
/// each running sequence, then admits waiting sequences in FIFO order while the batch has room and their whole
/// prompt fits the remaining token budget. Sequences therefore join and leave the batch between any two steps.
/// Single-threaded: only the owning worker's step loop calls it.
/// </summary>
internal sealed class Scheduler
{
    private readonly List<Sequence> _waiting = [];
    private readonly List<Sequence> _running = [];
    private readonly StepPlan _plan = new();
    private readonly int _maxBatchSize;
    private readonly int _maxNumBatchedTokens;
    private readonly Func<int, bool> _isEos;

    public Scheduler(int maxBatchSize, int maxNumBatchedTokens, Func<int, bool> isEos)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNumBatchedTokens);
        _maxBatchSize = maxBatchSize;
        _maxNumBatchedTokens = maxNumBatchedTokens;
        _isEos = isEos;
    }

    public SchedulerStats Stats => new(_running.Count, _waiting.Count);

    public bool HasWork => _running.Count > 0 || _waiting.Count > 0;

    public void Add(Sequence sequence)
    {
        Debug.Assert(sequence.Status == SequenceStatus.Waiting, "Only new sequences are added.");
        _waiting.Add(sequence);
    }

    /// <summary>Plans the next step. Non-empty whenever <see cref="HasWork"/>.</summary>
    public StepPlan Schedule()
    {
        _plan.Clear();
        int budget = _maxNumBatchedTokens;

        foreach (var sequence in _running)
        {
            _plan.Add(sequence, sequence.NumComputedTokens, 1);
            budget--;
        }

        while (_waiting.Count > 0 && _running.Count < _maxBatchSize)
        {
            var next = _waiting[0];

            // FIFO without skipping, so a long prompt is not starved by a stream of short ones. A prompt larger
            // than the whole budget runs alone once the batch drains.
            if (next.PromptLength > budget && !_plan.IsEmpty)
            {
                break;
            }

            _waiting.RemoveAt(0);
            next.Status = SequenceStatus.Running;
            _running.Add(next);
            _plan.Add(next, 0, next.PromptLength);
            budget -= next.PromptLength;
        }

        return _plan;
    }

    /// <summary>
    /// Appends each row's sampled token and applies the token-level stop rules (EOS, max_tokens, context window).
    /// Sequences that stop are removed from the batch and added to <paramref name="finished"/>; rows whose sequence
    /// already finished this step (failed alone) are skipped.
    /// </summary>
    public void UpdateFromOutput(StepPlan plan, ReadOnlySpan<int> sampledTokens, List<Sequence> finished)
    {
        Debug.Assert(sampledTokens.Length == plan.Items.Count, "One sampled token per row.");
        for (int row = 0; row < plan.Items.Count; row++)
        {
            var item = plan.Items[row];
            var sequence = item.Sequence;
            if (sequence.Status == SequenceStatus.Finished)
            {
                continue; // failed while its token was sampled (EngineWorker.FailRow): it gets no token
            }

            sequence.NumComputedTokens += item.NumTokens;
            sequence.Tokens.Add(sampledTokens[row]);

            FinishReason? reason = CheckStop(sequence, sampledTokens[row]);
            if (reason is { } stop && Finish(sequence, stop))
            {
                finished.Add(sequence);
            }
        }
    }

    /// <summary>Removes a sequence from the batch or queue. False when it had already finished.</summary>
    public bool Finish(Sequence sequence, FinishReason reason)
    {
        if (sequence.Status == SequenceStatus.Finished)
        {
            return false;
        }

        var list = sequence.Status == SequenceStatus.Running ? _running : _waiting;
        list.Remove(sequence);
        sequence.Status = SequenceStatus.Finished;
        sequence.FinishReason = reason;
        return true;
    }

    /// <summary>Adds every queued or running sequence whose client cancelled to <paramref name="into"/>.</summary>
    public void CollectCancelled(List<Sequence> into)
    {
        foreach (var sequence in _running)
        {
            if (sequence.IsCancelRequested)
            {
                into.Add(sequence);
            }
        }

        foreach (var sequence in _waiting)
        {
            if (sequence.IsCancelRequested)
            {
                into.Add(sequence);
            }
        }
    }

    /// <summary>Adds every queued or running sequence to <paramref name="into"/> (shutdown).</summary>
    public void CollectAll(List<Sequence> into)
    {
        into.AddRange(_running);
        into.AddRange(_waiting);
    }

    private FinishReason? CheckStop(Sequence sequence, int tokenId)
    {
        if (!sequence.Sampling.IgnoreEos && _isEos(tokenId))
        {
            return FinishReason.Stop;
        }

        // MaxNewTokens is already clipped to the context window, so this also stops a sequence that fills it.
        return sequence.GeneratedCount >= sequence.MaxNewTokens ? FinishReason.Length : null;
    }
}
