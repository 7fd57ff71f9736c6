using MmServe.Abstractions;
using MmServe.Serving.Errors;
using MmServe.Serving.Generation;

namespace MmServe.Serving.Sessions;

/// <summary>
/// What a <see cref="GenerationSession"/> yields: text deltas and generated media in the order they become
/// available, then exactly one <see cref="SessionFinished"/> or <see cref="SessionFailed"/>.
/// </summary>
public abstract record SessionEvent;

/// <summary>New tokens and text. Text can lag the tokens (held back while it may begin a stop string).</summary>
/// <param name="Logprobs">One entry per token when the request asked for logprobs, else null.</param>
public sealed record TextDelta(IReadOnlyList<int> TokenIds, string Text, IReadOnlyList<LogprobEntry>? Logprobs) : SessionEvent;

/// <summary>A generated image or clip is ready; <paramref name="Index"/> counts the request's items from 0.</summary>
public sealed record MediaReady(GeneratedMedia Media, int Index) : SessionEvent;

/// <summary>The generation ended: its reason (possibly <see cref="FinishReason.Cancelled"/>) and its usage.</summary>
public sealed record SessionFinished(FinishReason Reason, int PromptTokens, int CompletionTokens) : SessionEvent
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>The generation failed after it was admitted (a model failure, a generator failure).</summary>
public sealed record SessionFailed(ServingError Error) : SessionEvent;
