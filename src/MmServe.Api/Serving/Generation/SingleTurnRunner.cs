using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.Serving.Media;
using MmServe.Engine;
using MmServe.Model.Chat;

namespace MmServe.Api.Serving.Generation;

/// <summary>What one single-turn generation produced.</summary>
internal sealed record SingleTurnResult(string Text, IReadOnlyList<GeneratedMedia> Media, FinishReason Reason, int PromptTokens, int CompletionTokens);

/// <summary>
/// Runs one user turn through the whole chain and waits for the result: prompt → media encoders → LLM →
/// output generators. The task endpoints (/v1/images/generations, /v1/audio/speech, /v1/audio/transcriptions)
/// are single turns built from the manifest's task prompts; they share the engine, limits and batching with chat.
/// </summary>
internal sealed class SingleTurnRunner(PromptPreparer preparer, IGenerationEngine engine, IMediaGenerator generator)
{
    /// <summary>
    /// Completion budget of a task turn: the model's answer is a short sentence (plus signal tokens), so this only
    /// bounds a model that rambles; it also leaves room in the context for long task inputs.
    /// </summary>
    public const int MaxAnswerTokens = 64;

    /// <param name="parts">The user message: text and media parts (media numbered as in <paramref name="media"/>).</param>
    /// <param name="media">The media items the parts refer to.</param>
    /// <param name="sampling">Sampling (the task endpoints decode greedily unless the client says otherwise).</param>
    /// <param name="outputs">Output modalities to generate.</param>
    /// <param name="textParam">The request field the text came from, named when the prompt does not fit.</param>
    /// <param name="requestId">For logs and error messages.</param>
    /// <param name="ct">The client's request token: cancelling it stops the LLM and the generators.</param>
    /// <returns>The result, or a client error (prompt too long, bad media) / an engine refusal.</returns>
    public async Task<(SingleTurnResult? Result, ApiError? Error)> RunAsync(
        IReadOnlyList<ChatPart> parts,
        IReadOnlyList<MediaReference> media,
        SamplingParams sampling,
        IReadOnlyList<OutputModality> outputs,
        string textParam,
        string requestId,
        CancellationToken ct)
    {
        var (prompt, spans, prepareError) = await preparer.PrepareAsync(
            [new ChatTurn("user", parts)], media, sampling.MaxTokens, "max_tokens", ct, textParam).ConfigureAwait(false);
        if (prepareError is not null)
        {
            return (null, prepareError);
        }

        var collected = outputs.Count == 0 ? null : new GeneratedOutputs(outputs, generator, prompt!.Ids.Length, engine.ModelInfo.HiddenSize, ct);
        var request = new GenerationRequest(requestId, prompt!.Ids, sampling) { Media = spans, HiddenStateTokenIds = collected?.SignalTokenIds };
        var handle = await engine.SubmitAsync(request, ct).ConfigureAwait(false);
        if (handle.Rejection is { } rejection)
        {
            return (null, ApiError.FromEngine(rejection, requestId));
        }

        var text = new System.Text.StringBuilder();
        await foreach (var item in handle.Events.ReadAllAsync(ct).ConfigureAwait(false))
        {
            switch (item)
            {
                case TokenDeltaEvent delta:
                    collected?.Observe(delta);
                    text.Append(delta.Text);
                    break;
                case ErrorEvent error:
                    return (null, ApiError.FromEngine(error.Error, requestId));
                case FinishedEvent finished:
                    ct.ThrowIfCancellationRequested();
                    var generated = collected is null ? [] : await collected.TakeAllAsync().ConfigureAwait(false);
                    return (new SingleTurnResult(text.ToString(), generated, finished.Reason, finished.PromptTokens, finished.CompletionTokens), null);
            }
        }

        throw new InvalidOperationException("The engine stream ended without a terminal event.");
    }

    /// <summary>The manifest's task prompt with the client's text in place of {text} (a final full stop dropped, since templates end a sentence).</summary>
    public static string FillTemplate(string template, string text) =>
        template.Replace(Model.Bundle.OutputModalitySpec.TextPlaceholder, text.Trim().TrimEnd('.').TrimEnd(), StringComparison.Ordinal);
}
