using MmServe.Abstractions;
using MmServe.Engine.Sampling;
using MmServe.Engine.Scheduling;
using Microsoft.Extensions.Logging;

namespace MmServe.Engine.Core;

/// <summary>
/// One model executor driven by one dedicated thread. The thread owns the scheduler and runs a synchronous step
/// loop (schedule → forward → sample → emit); other threads only enqueue requests, flag cancellations and wake it.
/// </summary>
internal sealed partial class EngineWorker : IDisposable
{
    private static readonly IReadOnlyList<MediaEmbedding> NoMedia = [];

    private readonly IModelExecutor _executor;
    private readonly ExecutorInfo _info;
    private readonly Scheduler _scheduler;
    private readonly AdmissionQueue _admission;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly SemaphoreSlim _wake = new(0);

    // Step-loop scratch, reused every step.
    private readonly Sampler _sampler = new();
    private readonly ForwardOutput _output = new();
    private readonly List<SequenceInput> _inputs = [];
    private readonly List<Sequence> _finished = [];
    private readonly List<Sequence> _toRemove = [];
    private SampledToken[] _sampled = [];
    private int[] _sampledIds = [];

    private readonly Lock _inboxGate = new();
    private readonly Queue<Sequence> _inbox = new();
    private bool _closed;

    private int _wakePending;
    private int _cancelPending;
    private int _abortRequested;

    // Published for Stats from the loop thread, read lock-free by others.
    private int _active;
    private int _inboxCount;
    private int _running;
    private int _waiting;
    private long _steps;
    private long _releasedSlots;
    private long _failedSteps;

    public EngineWorker(int index, IModelExecutor executor, int maxBatchSize, int maxNumBatchedTokens,
        Func<int, bool> isEos, AdmissionQueue admission, ILogger logger)
    {
        Index = index;
        _executor = executor;
        _info = executor.Info;
        _scheduler = new Scheduler(maxBatchSize, maxNumBatchedTokens, isEos);
        _admission = admission;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = $"mmserve-engine-{index}" };
    }

    public int Index { get; }

    /// <summary>Told the tokens of each step that ran (prefill and decode rows together), for metrics.</summary>
    public Action<int>? StepTokensObserved { get; set; }

    /// <summary>Requests assigned and not yet finished; the dispatch load.</summary>
    public int Load => Volatile.Read(ref _active);

    public WorkerStats Stats => new(
        Volatile.Read(ref _active),
        Volatile.Read(ref _running),
        Volatile.Read(ref _waiting) + Volatile.Read(ref _inboxCount),
        Interlocked.Read(ref _steps),
        Interlocked.Read(ref _releasedSlots),
        Interlocked.Read(ref _failedSteps));

    public void Start() => _thread.Start();

    /// <summary>Hands a sequence to this worker; false once the worker has stopped.</summary>
    public bool TryEnqueue(Sequence sequence, CancellationToken ct)
    {
        // Registered before the worker can see the sequence, so the worker always finds the registration to undo.
        sequence.CancellationRegistration = ct.UnsafeRegister(
            static state =>
            {
                var (worker, sequence) = ((EngineWorker, Sequence))state!;
                sequence.RequestCancel();
                Volatile.Write(ref worker._cancelPending, 1);
                worker.Wake();
            },
            (this, sequence));

        lock (_inboxGate)
        {
            if (_closed)
            {
                sequence.CancellationRegistration.Unregister();
                return false;
            }

            Interlocked.Increment(ref _active);
            Interlocked.Increment(ref _inboxCount);
            _inbox.Enqueue(sequence);
        }

        Wake();
        return true;
    }

    public void BeginShutdown()
    {
        try
        {
            _shutdown.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: nothing left to stop.
        }
    }

    /// <summary>
    /// Ends every sequence this worker holds, now and from now on, with <see cref="FinishReason.Abort"/>; the loop
    /// thread does it before its next step, so a forward pass in progress completes first (at most one step late).
    /// </summary>
    public void AbortAll()
    {
        Volatile.Write(ref _abortRequested, 1);
        Wake();
    }

    public bool Join(TimeSpan timeout) => !_thread.IsAlive || _thread.Join(timeout);

    public void Dispose()
    {
        BeginShutdown();
        if (Join(TimeSpan.Zero))
        {
            _shutdown.Dispose();
            _wake.Dispose();
        }
    }

    private void Run()
    {
        var ct = _shutdown.Token;
        Log.WorkerStarted(_logger, Index, _info.MaxBatchSize);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                DrainInbox();
                ReapCancelled();
                AbortIfRequested();
                PublishStats();
                if (!_scheduler.HasWork)
                {
                    WaitForWork(ct);
                    continue;
                }

                RunStep(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutdown: fall through to Close, which fails what is left.
        }
        catch (Exception ex)
        {
            Log.LoopCrashed(_logger, Index, ex);
        }
        finally
        {
            Close();
        }
    }

    private void WaitForWork(CancellationToken ct)
    {
        // Cleared before re-checking, so a Wake() racing with the check leaves a permit instead of being lost.
        Volatile.Write(ref _wakePending, 0);
        if (Volatile.Read(ref _inboxCount) > 0 || Volatile.Read(ref _cancelPending) != 0)
        {
            return;
        }

        _wake.Wait(ct);
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (ObjectDisposedException)
            {
                // The worker is gone; nothing to wake.
            }
        }
    }

    private void DrainInbox()
    {
        if (Volatile.Read(ref _inboxCount) == 0)
        {
            return;
        }

        lock (_inboxGate)
        {
            while (_inbox.TryDequeue(out var sequence))
            {
                Interlocked.Decrement(ref _inboxCount);
                _scheduler.Add(sequence);
            }
        }
    }

    /// <summary>Drops cancelled sequences and frees their slots before the next step is planned.</summary>
    private void ReapCancelled()
    {
        if (Interlocked.Exchange(ref _cancelPending, 0) == 0)
        {
            return;
        }

        _scheduler.CollectCancelled(_toRemove);
        foreach (var sequence in _toRemove)
        {
            _scheduler.Finish(sequence, FinishReason.Cancelled);
            Retire(sequence, new FinishedEvent(FinishReason.Cancelled, sequence.PromptLength, sequence.GeneratedCount)
            {
                Timings = sequence.TimingsUntil(System.Diagnostics.Stopwatch.GetTimestamp()),
            });
        }

        _toRemove.Clear();
    }

    /// <summary>After <see cref="AbortAll"/>: finishes what is queued or running with "abort", keeping its text.</summary>
    private void AbortIfRequested()
    {
        if (Volatile.Read(ref _abortRequested) == 0)
        {
            return;
        }

        _scheduler.CollectAll(_toRemove);
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var sequence in _toRemove)
        {
            _scheduler.Finish(sequence, FinishReason.Abort);
            sequence.Output.PostText(sequence.Text.Finish());
            Retire(sequence, new FinishedEvent(FinishReason.Abort, sequence.PromptLength, sequence.GeneratedCount)
            {
                Timings = sequence.TimingsUntil(now),
            });
        }

        _toRemove.Clear();
    }

    private void RunStep(CancellationToken ct)
    {
        var plan = _scheduler.Schedule();
        BuildInputs(plan);
        _output.Prepare(_inputs, _info.VocabSize, _info.HiddenSize);
        Interlocked.Increment(ref _steps);
        PublishStats();

        try
        {
            _executor.Forward(_inputs, _output, ct);
            ProcessOutputs(plan);
            StepTokensObserved?.Invoke(plan.TotalTokens);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Only this step's sequences are affected; the loop and everything still queued carry on.
            Interlocked.Increment(ref _failedSteps);
            Log.StepFailed(_logger, Index, plan.Items.Count, ex);
            FailStep(plan);
        }
        finally
        {
            _inputs.Clear();
            _finished.Clear();
        }
    }

    private void BuildInputs(StepPlan plan)
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var item in plan.Items)
        {
            var sequence = item.Sequence;
            if (item.IsPrefill && sequence.ScheduledTimestamp == 0)
            {
                sequence.ScheduledTimestamp = now;
            }

            if (item.IsPrefill && sequence.TryLeaveQueue())
            {
                _admission.Leave();
            }

            // Set before Forward: a failed pass may still have left state in the executor.
            sequence.HoldsExecutorSlot = true;
            _inputs.Add(new SequenceInput(
                sequence.Id,
                sequence.Tokens.Slice(item.StartPosition, item.NumTokens),
                item.StartPosition,
                item.IsPrefill ? sequence.Request.Media : NoMedia,
                WantsHiddenStates(sequence, item))
            {
                Positions = sequence.Request.Positions,
                TokenTypes = sequence.Request.TokenTypes,
            });
            AttachEncoder(item);
            AttachCrossAttention(item);
        }
    }

    /// <summary>A decode step feeding back one of the request's hidden-state tokens.</summary>
    private static bool WantsHiddenStates(Sequence sequence, ScheduledSequence item) =>
        sequence.Request.HiddenStateTokenIds is { Count: > 0 } ids
        && !item.IsPrefill
        && ids.Contains(sequence.Tokens[item.StartPosition]);

    private void ProcessOutputs(StepPlan plan)
    {
        int rows = plan.Items.Count;
        if (_sampled.Length < rows)
        {
            _sampled = new SampledToken[Math.Max(rows, _sampled.Length * 2)];
            _sampledIds = new int[_sampled.Length];
        }

        for (int row = 0; row < rows; row++)
        {
            var sequence = plan.Items[row].Sequence;
            try
            {
                var logits = _output.GetLogits(row);
                // The mask only depends on the row's own grammar state and budget, so batching cannot change a row's tokens.
                sequence.Constraint?.Mask(logits, sequence.TokensLeft);
                var sampled = _sampler.Sample(logits, sequence.Sampler);
                sequence.Constraint?.Advance(sampled.TokenId);
                _sampled[row] = sampled;
                _sampledIds[row] = sampled.TokenId;
            }
            catch (Exception ex)
            {
                // One row's grammar or sampler fault fails that request only; the batch's other rows keep their token.
                FailRow(sequence, ex);
            }
        }

        // Rows failed above are finished and retired: the scheduler skips them.
        _scheduler.UpdateFromOutput(plan, _sampledIds.AsSpan(0, rows), _finished);

        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int row = 0; row < rows; row++)
        {
            var item = plan.Items[row];
            var sequence = item.Sequence;
            if (sequence.IsRetired)
            {
                continue;
            }

            try
            {
                PostToken(item, row, _sampled[row], now);
            }
            catch (Exception ex)
            {
                FailRow(sequence, ex);
            }
        }

        foreach (var sequence in _finished)
        {
            if (sequence.IsRetired)
            {
                continue;
            }

            try
            {
                sequence.Output.PostText(sequence.Text.Finish());
                Retire(sequence, new FinishedEvent(sequence.FinishReason!.Value, sequence.PromptLength, sequence.GeneratedCount)
                {
                    Timings = sequence.TimingsUntil(now),
                });
            }
            catch (Exception ex)
            {
                FailRow(sequence, ex);
            }
        }
    }

    /// <summary>Detokenizes a row's new token, applies the stop strings and posts the delta.</summary>
    private void PostToken(ScheduledSequence item, int row, SampledToken sampled, long now)
    {
        var sequence = item.Sequence;
        if (sequence.FirstTokenTimestamp == 0)
        {
            sequence.FirstTokenTimestamp = now;
        }

        // An EOS that ends the sequence is a control token: counted, but it adds no text.
        bool endedByEos = sequence.Status == SequenceStatus.Finished && sequence.FinishReason == FinishReason.Stop;
        string text = endedByEos ? string.Empty : sequence.Text.Push(sampled.TokenId);
        if (sequence.Text.StopMatched)
        {
            if (_scheduler.Finish(sequence, FinishReason.Stop))
            {
                _finished.Add(sequence);
            }
            else
            {
                // It also hit max_tokens this step; the stop string is the reason the client should see.
                sequence.FinishReason = FinishReason.Stop;
            }
        }

        sequence.Output.PostDelta(sampled.TokenId, text, sampled.Logprob, _output.GetHiddenStates(row), item.StartPosition, now);
    }

    /// <summary>Fails one request of the step (its row's sampling or output went wrong) without touching the others.</summary>
    private void FailRow(Sequence sequence, Exception ex)
    {
        Log.RowFailed(_logger, Index, sequence.Id, ex);
        if (!_scheduler.Finish(sequence, FinishReason.Error))
        {
            sequence.FinishReason = FinishReason.Error;
        }

        Retire(sequence, new ErrorEvent(new EngineError(EngineErrorCode.Internal, "The model failed while generating this request.")));
    }

    private void FailStep(StepPlan plan)
    {
        var error = new ErrorEvent(new EngineError(EngineErrorCode.Internal, "The model failed while generating this request."));
        foreach (var item in plan.Items)
        {
            var sequence = item.Sequence;
            if (sequence.IsRetired)
            {
                continue;
            }

            if (!_scheduler.Finish(sequence, FinishReason.Error))
            {
                sequence.FinishReason = FinishReason.Error;
            }

            Retire(sequence, error);
        }
    }

    /// <summary>Final bookkeeping of a finished sequence: free its slot, post its last event, stop counting it.</summary>
    private void Retire(Sequence sequence, GenerationEvent terminal)
    {
        if (sequence.IsRetired)
        {
            return;
        }

        sequence.IsRetired = true;
        if (sequence.TryLeaveQueue())
        {
            _admission.Leave();
        }

        ReleaseSlot(sequence);
        sequence.Output.Complete(terminal);
        sequence.CancellationRegistration.Unregister();
        Interlocked.Decrement(ref _active);
    }

    private void ReleaseSlot(Sequence sequence)
    {
        if (!sequence.HoldsExecutorSlot)
        {
            return;
        }

        sequence.HoldsExecutorSlot = false;
        try
        {
            _executor.Release(sequence.Id);
        }
        catch (Exception ex)
        {
            Log.ReleaseFailed(_logger, Index, sequence.Id, ex);
        }

        Interlocked.Increment(ref _releasedSlots);
    }

    private void PublishStats()
    {
        var stats = _scheduler.Stats;
        Volatile.Write(ref _running, stats.Running);
        Volatile.Write(ref _waiting, stats.Waiting);
    }

    /// <summary>Runs once on the loop thread as it exits: refuses new work and fails everything still in flight.</summary>
    private void Close()
    {
        lock (_inboxGate)
        {
            _closed = true;
        }

        DrainInbox();
        var unavailable = new ErrorEvent(new EngineError(EngineErrorCode.Unavailable, "The engine is shutting down."));
        _scheduler.CollectAll(_toRemove);
        foreach (var sequence in _toRemove)
        {
            _scheduler.Finish(sequence, FinishReason.Error);
            Retire(sequence, unavailable);
        }

        _toRemove.Clear();
        PublishStats();

        try
        {
            _executor.Dispose();
        }
        catch (Exception ex)
        {
            Log.ExecutorDisposeFailed(_logger, Index, ex);
        }

        Log.WorkerStopped(_logger, Index);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Engine worker {Worker} started (max batch size {MaxBatchSize}).")]
        public static partial void WorkerStarted(ILogger logger, int worker, int maxBatchSize);

        [LoggerMessage(2, LogLevel.Error, "Engine worker {Worker}: forward pass over {Rows} sequences failed; those requests were failed.")]
        public static partial void StepFailed(ILogger logger, int worker, int rows, Exception exception);

        [LoggerMessage(3, LogLevel.Warning, "Engine worker {Worker}: releasing sequence {SequenceId} failed.")]
        public static partial void ReleaseFailed(ILogger logger, int worker, long sequenceId, Exception exception);

        [LoggerMessage(4, LogLevel.Critical, "Engine worker {Worker}: step loop crashed; its requests were failed.")]
        public static partial void LoopCrashed(ILogger logger, int worker, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Engine worker {Worker}: disposing the executor failed.")]
        public static partial void ExecutorDisposeFailed(ILogger logger, int worker, Exception exception);

        [LoggerMessage(6, LogLevel.Debug, "Engine worker {Worker} stopped.")]
        public static partial void WorkerStopped(ILogger logger, int worker);

        [LoggerMessage(7, LogLevel.Error, "Engine worker {Worker}: sampling or output of sequence {SequenceId} failed; that request was failed, the rest of the batch kept going.")]
        public static partial void RowFailed(ILogger logger, int worker, long sequenceId, Exception exception);
    }
}
