using MmServe.Engine;
using MmServe.Serving.Admission;
using MmServe.Serving.Errors;
using MmServe.Serving.Generation;
using MmServe.Serving.Requests;
using MmServe.Serving.Telemetry;

namespace MmServe.Serving.Sessions;

/// <summary>
/// The one way into the engine, for every API: a validated request becomes a prompt with its media embedded, is
/// submitted (the only call of the engine's submission in the product), and comes back as a
/// <see cref="GenerationSession"/> or as the reason it was refused. Cancelling the token (client gone, deadline)
/// stops the media work, the engine request (its slot is freed within one step) and the generators.
/// </summary>
public sealed class GenerationService(
    PromptPreparer preparer,
    IGenerationEngine engine,
    IMediaGenerator generator,
    TokenLogprobs logprobs,
    ILogger<GenerationSession> logger,
    ModelMetrics? metrics = null,
    string modelId = "")
{
    /// <summary>Starts a request that no token allowance limits (the warm-up, tests).</summary>
    public Task<(GenerationSession? Session, ServingError? Error)> StartAsync(ValidatedRequest request, string requestId, CancellationToken ct) =>
        StartAsync(request, requestId, null, ct);

    /// <param name="request">A request that passed the rules.</param>
    /// <param name="requestId">For logs and error messages.</param>
    /// <param name="budget">The client's token allowance (null: unlimited); reserved before the engine sees the request.</param>
    /// <param name="ct">The client's request token.</param>
    public async Task<(GenerationSession? Session, ServingError? Error)> StartAsync(
        ValidatedRequest request, string requestId, ITokenBudget? budget, CancellationToken ct)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();

        // The request's span ("chat {model}", GenAI attributes): current while the media are embedded, then carried
        // by the session, which ends it with the usage and finish reason.
        var span = RequestSpan.Start(modelId, request, requestId);
        ITokenReservation? reservation = null;
        try
        {
            var (prompt, media, prepareError) = await preparer.PrepareAsync(request, budget is null ? null : Admit, ct).ConfigureAwait(false);
            if (prepareError is not null)
            {
                // Refused before the engine (e.g. media that would not decode): nothing was generated, nothing is charged.
                reservation?.Settle(0);
                metrics?.Refused(prepareError, started);
                RequestSpan.Fail(span, prepareError);
                return (null, prepareError);
            }

            var outputs = request.Outputs.Any
                ? new GeneratedOutputs(request.Outputs.Modalities, generator, prompt!.Ids.Length, engine.ModelInfo.HiddenSize, ct)
                : null;
            var (spans, crossAttention) = CrossAttention.CrossAttentionPrompt.Split(media, engine.ModelInfo);
            var submission = new GenerationRequest(requestId, prompt!.Ids, request.Sampling)
            {
                Media = spans,
                CrossAttention = crossAttention,
                HiddenStateTokenIds = outputs?.SignalTokenIds,
                Positions = prompt.Positions,
                TokenTypes = prompt.TokenTypes,
                Constraint = request.Constraint,
            };
            var handle = await engine.SubmitAsync(submission, ct).ConfigureAwait(false);
            if (handle.Rejection is { } rejection)
            {
                reservation?.Settle(0);
                var refused = ServingError.FromEngine(rejection, requestId, request.PromptParam);
                metrics?.Refused(refused, started);
                RequestSpan.Fail(span, refused);
                return (null, refused);
            }

            // From here the session settles the reservation with the real usage when the generation ends.
            var session = new GenerationSession(requestId, prompt.Ids, handle, outputs, request.Sampling.Logprobs ? logprobs : null, request.PromptParam, logger)
            {
                Metrics = metrics,
                StartedTimestamp = started,
                ModelId = modelId,
                Span = span,
                Reservation = reservation,
            };
            return (session, null);
        }
        catch
        {
            // The client went away while its media were being prepared.
            reservation?.Settle(0);
            throw;
        }

        ServingError? Admit(int promptTokens, int maxCompletionTokens)
        {
            (reservation, var refused) = budget!.Reserve(promptTokens, maxCompletionTokens);
            return refused;
        }
    }
}
