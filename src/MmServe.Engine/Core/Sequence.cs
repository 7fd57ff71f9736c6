using MmServe.Abstractions;
using MmServe.Engine.Constraints;
using MmServe.Engine.Output;
using MmServe.Engine.Sampling;

namespace MmServe.Engine.Core;

internal enum SequenceStatus
{
    Waiting,
    Running,
    Finished,
}

/// <summary>
/// Engine-side state of one request. Owned by its worker's step loop thread; only
/// <see cref="RequestCancel"/> is called from other threads.
/// </summary>
internal sealed class Sequence
{
    private const int InitialCompletionCapacity = 512;

    private int _cancelRequested;

    public Sequence(
        long id,
        GenerationRequest request,
        int maxContext,
        TextOutputProcessor text,
        RequestOutputCollector output)
    {
        Id = id;
        Request = request;
        PromptLength = request.PromptTokenIds.Length;
        MaxNewTokens = Math.Max(0, Math.Min(request.Sampling.MaxTokens ?? int.MaxValue, maxContext - PromptLength));
        // Reserve room for typical completions only: without max_tokens, MaxNewTokens is the whole context window,
        // and hundreds of queued requests would each hold it. Longer outputs grow the buffer by doubling.
        Tokens = new TokenBuffer(request.PromptTokenIds.Span, PromptLength + Math.Min(MaxNewTokens, InitialCompletionCapacity));
        Sampler = new SamplerState(request.Sampling);
        Constraint = request.Constraint is { } constraint ? new ConstraintCursor(constraint) : null;
        Text = text;
        Output = output;
    }

    public long Id { get; }

    /// <summary>Stopwatch timestamp of the submission.</summary>
    public long SubmittedTimestamp { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>When its prefill was first scheduled; 0 before.</summary>
    public long ScheduledTimestamp { get; set; }

    /// <summary>When its first token was sampled; 0 before.</summary>
    public long FirstTokenTimestamp { get; set; }

    public RequestTimings TimingsUntil(long finished) => new(SubmittedTimestamp, ScheduledTimestamp, FirstTokenTimestamp, finished);

    public GenerationRequest Request { get; }

    public SamplingParams Sampling => Request.Sampling;

    /// <summary>Prompt followed by the generated tokens.</summary>
    public TokenBuffer Tokens { get; }

    public int PromptLength { get; }

    /// <summary>max_tokens, clipped so that prompt + generated never exceeds the context window.</summary>
    public int MaxNewTokens { get; }

    public int GeneratedCount => Tokens.Count - PromptLength;

    /// <summary>Positions whose KV state the executor holds; the next decode feeds token [NumComputedTokens].</summary>
    public int NumComputedTokens { get; set; }

    public SequenceStatus Status { get; set; } = SequenceStatus.Waiting;

    public FinishReason? FinishReason { get; set; }

    /// <summary>Was part of a Forward call, so the executor may hold state that must be released.</summary>
    public bool HoldsExecutorSlot { get; set; }

    /// <summary>Its terminal event was posted; nothing more may happen to it.</summary>
    public bool IsRetired { get; set; }

    public SamplerState Sampler { get; }

    /// <summary>Where the output stands in the request's grammar; null when unconstrained.</summary>
    public ConstraintCursor? Constraint { get; }

    /// <summary>Tokens it may still generate, the one being sampled included.</summary>
    public int TokensLeft => MaxNewTokens - GeneratedCount;

    public TextOutputProcessor Text { get; }

    public RequestOutputCollector Output { get; }

    public CancellationTokenRegistration CancellationRegistration { get; set; }

    public bool IsCancelRequested => Volatile.Read(ref _cancelRequested) != 0;

    /// <summary>Counted in the admission queue until its prefill is scheduled or it ends while waiting.</summary>
    public bool IsQueued { get; private set; } = true;

    public void RequestCancel() => Volatile.Write(ref _cancelRequested, 1);

    /// <summary>Marks the sequence as out of the admission queue; true only the first time.</summary>
    public bool TryLeaveQueue()
    {
        if (!IsQueued)
        {
            return false;
        }

        IsQueued = false;
        return true;
    }
}
