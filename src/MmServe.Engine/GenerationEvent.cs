using MmServe.Abstractions;

namespace MmServe.Engine;

/// <summary>What a <see cref="GenerationHandle"/> streams: deltas, then exactly one finished or error event.</summary>
public abstract record GenerationEvent;

/// <summary>
/// New output since the previous event. A slow reader gets several steps merged into one delta, so one event
/// may carry many tokens. <see cref="Text"/> can lag <see cref="TokenIds"/>: text that might begin a stop string,
/// or an incomplete character, is held back. An end-of-sequence token appears in <see cref="TokenIds"/> (and is
/// counted as a completion token) but adds no text.
/// </summary>
/// <param name="TokenIds">Generated tokens, in order.</param>
/// <param name="Text">Newly decoded text.</param>
/// <param name="Logprobs">One entry per token in <see cref="TokenIds"/> when the request asked for logprobs, else null.</param>
/// <param name="HiddenStates">Hidden states of the tokens fed in these steps when requested, else null.</param>
public sealed record TokenDeltaEvent(
    IReadOnlyList<int> TokenIds,
    string Text,
    IReadOnlyList<TokenLogprob>? Logprobs = null,
    HiddenStatesChunk? HiddenStates = null) : GenerationEvent
{
    /// <summary>
    /// Stopwatch timestamp of the step that sampled each token in <see cref="TokenIds"/> (0 where unknown), so
    /// inter-token latency is exact even when a slow reader gets several steps merged into one delta.
    /// </summary>
    public IReadOnlyList<long> SampledAt { get; init; } = [];
}

/// <summary>The request completed normally (or was cancelled); always the last event.</summary>
/// <param name="Reason">Why it stopped.</param>
/// <param name="PromptTokens">Prompt length in tokens.</param>
/// <param name="CompletionTokens">Generated tokens, including a final end-of-sequence token.</param>
public sealed record FinishedEvent(FinishReason Reason, int PromptTokens, int CompletionTokens) : GenerationEvent
{
    /// <summary>When the request went through the engine's stages, for metrics and traces.</summary>
    public RequestTimings? Timings { get; init; }

    /// <summary>Timings are measurements, not part of what the outcome is: two equal outcomes are equal events.</summary>
    public bool Equals(FinishedEvent? other) =>
        other is not null && Reason == other.Reason && PromptTokens == other.PromptTokens && CompletionTokens == other.CompletionTokens;

    public override int GetHashCode() => HashCode.Combine(Reason, PromptTokens, CompletionTokens);
}

/// <summary>
/// A request's way through the engine as <see cref="System.Diagnostics.Stopwatch"/> timestamps: submitted, first
/// scheduled (its prefill starts), first token sampled, finished. A stage not reached is 0.
/// </summary>
public sealed record RequestTimings(long Submitted, long Scheduled, long FirstToken, long Finished);

/// <summary>The request failed; always the last event.</summary>
public sealed record ErrorEvent(EngineError Error) : GenerationEvent;

/// <summary>Final hidden states of the positions holding a requested token id (<see cref="GenerationRequest.HiddenStateTokenIds"/>).</summary>
/// <param name="Positions">Sequence position of each row, ascending.</param>
/// <param name="Values">Row-major Positions.Count x HiddenSize floats.</param>
public sealed record HiddenStatesChunk(IReadOnlyList<int> Positions, ReadOnlyMemory<float> Values)
{
    /// <summary>Sequence position of the first row.</summary>
    public int StartPosition => Positions[0];

    /// <summary>Number of rows.</summary>
    public int TokenCount => Positions.Count;

    /// <summary>The hidden state of row <paramref name="row"/> (HiddenSize floats).</summary>
    public ReadOnlyMemory<float> Row(int row)
    {
        int hidden = Values.Length / Positions.Count;
        return Values.Slice(row * hidden, hidden);
    }
}

/// <summary>
/// Log probability of a generated token. Logprobs are taken from the model's distribution after presence and
/// frequency penalties but before temperature, top-k and top-p (as OpenAI reports them), so they describe the
/// model rather than the sampler settings.
/// </summary>
/// <param name="TokenId">The generated token.</param>
/// <param name="Logprob">Its natural-log probability.</param>
/// <param name="TopLogprobs">The most likely tokens at this step, most likely first (ties by lower id).</param>
public sealed record TokenLogprob(int TokenId, float Logprob, IReadOnlyList<TopLogprob> TopLogprobs);

/// <summary>An alternative token and its natural-log probability.</summary>
public readonly record struct TopLogprob(int TokenId, float Logprob);
