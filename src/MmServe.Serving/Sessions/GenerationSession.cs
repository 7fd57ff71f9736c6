using System.Runtime.CompilerServices;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Serving.Admission;
using MmServe.Serving.Errors;
using MmServe.Serving.Generation;
using MmServe.Serving.Telemetry;

namespace MmServe.Serving.Sessions;

/// <summary>
/// One admitted generation: reads the engine's stream, starts each generated item as soon as its signal tokens
/// are complete (while the LLM keeps decoding), and yields one typed event stream that every API translates.
/// End of stream has one rule: a terminal event always comes last; an engine stream that ends without one is a
/// bug, reported as <see cref="SessionFailed"/> with an internal error rather than an empty answer.
/// </summary>
public sealed partial class GenerationSession
{
    private readonly GenerationHandle _handle;
    private readonly GeneratedOutputs? _outputs;
    private readonly TokenLogprobs? _logprobs;
    private readonly string _promptParam;
    private readonly ILogger _logger;
    private int _mediaCount;

    internal GenerationSession(
        string requestId, int[] promptTokenIds, GenerationHandle handle, GeneratedOutputs? outputs, TokenLogprobs? logprobs, string promptParam, ILogger logger)
    {
        RequestId = requestId;
        PromptTokenIds = promptTokenIds;
        _handle = handle;
        _outputs = outputs;
        _logprobs = logprobs;
        _promptParam = promptParam;
        _logger = logger;
    }

    public string RequestId { get; }

    /// <summary>Where this request's figures go (none for the warm-up).</summary>
    internal ModelMetrics? Metrics { get; init; }

    /// <summary>When the request reached the session layer (Stopwatch timestamp).</summary>
    internal long StartedTimestamp { get; init; }

    /// <summary>The served model's id, for the summary line.</summary>
    internal string ModelId { get; init; } = "";

    /// <summary>The request's span, ended here at the terminal event (or when the reader goes away).</summary>
    internal System.Diagnostics.Activity? Span { get; init; }

    /// <summary>The client's tokens held for this generation, settled here to the real usage at its end.</summary>
    internal ITokenReservation? Reservation { get; init; }

    /// <summary>The prompt as the model saw it, media placeholders included.</summary>
    public IReadOnlyList<int> PromptTokenIds { get; }

    /// <summary>
    /// A span for an edge's writes to its client (SSE, gRPC stream), under the request's span: streamed answers
    /// interleave writing with generation, so it runs from the first write to the last.
    /// </summary>
    public System.Diagnostics.Activity? StartWriteSpan(string protocol) => Span is null
        ? null
        : MmServe.Abstractions.Tracing.Source.StartActivity($"write {protocol}", System.Diagnostics.ActivityKind.Internal, Span.Context);

    /// <summary>Whether text deltas carry logprobs.</summary>
    public bool ReturnsLogprobs => _logprobs is not null;

    /// <summary>
    /// The events, once. An event that is already waiting completes MoveNextAsync synchronously, so an edge can
    /// batch its writes until it would have to wait. Cancelling <paramref name="ct"/> throws
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public async IAsyncEnumerable<SessionEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        long? firstToken = null;
        long lastToken = 0;
        int completionTokens = 0;
        try
        {
            await foreach (var item in _handle.Events.ReadAllAsync(ct).ConfigureAwait(false))
            {
                switch (item)
                {
                    case TokenDeltaEvent delta:
                        completionTokens += delta.TokenIds.Count;
                        if (delta.TokenIds.Count > 0)
                        {
                            // The engine's sampling times make inter-token latency exact even for merged deltas.
                            for (int i = 0; i < delta.TokenIds.Count; i++)
                            {
                                long sampledAt = i < delta.SampledAt.Count && delta.SampledAt[i] != 0
                                    ? delta.SampledAt[i]
                                    : System.Diagnostics.Stopwatch.GetTimestamp();
                                if (firstToken is null)
                                {
                                    firstToken = sampledAt;
                                    Span?.AddEvent(new System.Diagnostics.ActivityEvent("gen_ai.first_token"));
                                }
                                else
                                {
                                    Metrics?.InterToken(lastToken, sampledAt);
                                }

                                lastToken = sampledAt;
                            }
                        }

                        ObserveUnderSpan(delta);
                        yield return new TextDelta(delta.TokenIds, delta.Text, _logprobs?.Resolve(delta.Logprobs));
                        foreach (var media in _outputs?.TakeReady() ?? [])
                        {
                            yield return new MediaReady(media, _mediaCount++);
                        }

                        break;
                    case FinishedEvent { Reason: FinishReason.Cancelled } cancelled:
                        Reservation?.Settle(cancelled.PromptTokens + cancelled.CompletionTokens);
                        Summarize("cancelled", cancelled.PromptTokens, cancelled.CompletionTokens, firstToken);
                        RequestSpan.Finish(Span, cancelled.Reason, cancelled.PromptTokens, cancelled.CompletionTokens);
                        yield return new SessionFinished(cancelled.Reason, cancelled.PromptTokens, cancelled.CompletionTokens);
                        yield break;
                    case FinishedEvent finished:
                        Reservation?.Settle(finished.PromptTokens + finished.CompletionTokens);
                        var (rest, failure) = await TakeRemainingMediaAsync().ConfigureAwait(false);
                        if (failure is not null)
                        {
                            Metrics?.Refused(failure, StartedTimestamp);
                            Summarize("failed: internal", finished.PromptTokens, finished.CompletionTokens, firstToken);
                            RequestSpan.Fail(Span, failure);
                            yield return new SessionFailed(failure);
                            yield break;
                        }

                        Metrics?.Finished(finished.Reason, finished.PromptTokens, finished.CompletionTokens, StartedTimestamp, firstToken);
                        if (finished.Timings is { } timings)
                        {
                            Metrics?.EngineStages(timings);
                            RequestSpan.EngineStages(Span, timings);
                        }

                        Summarize($"finished: {FinishReasonNames.Of(finished.Reason)}", finished.PromptTokens, finished.CompletionTokens, firstToken);
                        RequestSpan.Finish(Span, finished.Reason, finished.PromptTokens, finished.CompletionTokens);

                        foreach (var media in rest)
                        {
                            yield return new MediaReady(media, _mediaCount++);
                        }

                        yield return new SessionFinished(finished.Reason, finished.PromptTokens, finished.CompletionTokens);
                        yield break;
                    case ErrorEvent error:
                        var failed = ServingError.FromEngine(error.Error, RequestId, _promptParam);
                        Metrics?.Refused(failed, StartedTimestamp);
                        Summarize($"failed: {failed.Code ?? "internal"}", 0, 0, firstToken);
                        RequestSpan.Fail(Span, failed);
                        yield return new SessionFailed(failed);
                        yield break;
                }
            }

            ct.ThrowIfCancellationRequested();
            Log.NoTerminalEvent(_logger, RequestId);
            var internalError = ServingError.Internal(RequestId);
            Metrics?.Refused(internalError, StartedTimestamp);
            RequestSpan.Fail(Span, internalError);
            yield return new SessionFailed(internalError);
        }
        finally
        {
            // A failed generation, or a reader that stopped early (client gone), is charged what the model did.
            Reservation?.Settle(PromptTokenIds.Count + completionTokens);

            // A reader that stops early (client gone) still ends the span.
            if (Span is { IsStopped: false })
            {
                Span.SetStatus(System.Diagnostics.ActivityStatusCode.Unset);
                Span.Stop();
            }
        }
    }

    /// <summary>Generator items start under the request's span, so their batched runs link back to it.</summary>
    private void ObserveUnderSpan(TokenDeltaEvent delta)
    {
        if (_outputs is null)
        {
            return;
        }

        var previous = System.Diagnostics.Activity.Current;
        if (Span is not null)
        {
            System.Diagnostics.Activity.Current = Span;
        }

        try
        {
            _outputs.Observe(delta);
        }
        finally
        {
            System.Diagnostics.Activity.Current = previous;
        }
    }

    /// <summary>One Information line per admitted request: model, outcome, tokens, time to first token and duration.</summary>
    private void Summarize(string outcome, int promptTokens, int completionTokens, long? firstToken)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        double ttft = firstToken is { } first ? System.Diagnostics.Stopwatch.GetElapsedTime(StartedTimestamp, first).TotalMilliseconds : -1;
        Log.Summary(_logger, RequestId, ModelId, outcome, promptTokens, completionTokens, ttft, System.Diagnostics.Stopwatch.GetElapsedTime(StartedTimestamp).TotalMilliseconds);
    }

    /// <summary>Waits for the items still being generated; a generator failure fails the request (its cause is logged, not sent).</summary>
    private async Task<(IReadOnlyList<GeneratedMedia> Media, ServingError? Error)> TakeRemainingMediaAsync()
    {
        if (_outputs is null)
        {
            return ([], null);
        }

        try
        {
            return (await _outputs.TakeAllAsync().ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.GenerationFailed(_logger, RequestId, e);
            return ([], ServingError.Internal(RequestId));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Request {RequestId}: generating its media failed.")]
        public static partial void GenerationFailed(ILogger logger, string requestId, Exception exception);

        [LoggerMessage(3, LogLevel.Information, "Request {RequestId} ({Model}) {Outcome}: {PromptTokens} prompt + {CompletionTokens} completion tokens, first token {TtftMs:F1} ms, total {DurationMs:F1} ms.")]
        public static partial void Summary(ILogger logger, string requestId, string model, string outcome, int promptTokens, int completionTokens, double ttftMs, double durationMs);

        [LoggerMessage(2, LogLevel.Error, "Request {RequestId}: the engine stream ended without a finished or error event.")]
        public static partial void NoTerminalEvent(ILogger logger, string requestId);
    }
}
