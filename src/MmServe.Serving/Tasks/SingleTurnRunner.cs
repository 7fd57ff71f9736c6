using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Model.Chat;
using MmServe.Serving.Admission;
using MmServe.Serving.Errors;
using MmServe.Serving.Generation;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;

namespace MmServe.Serving.Tasks;

/// <summary>
/// The task endpoints (/v1/images/generations, /v1/audio/speech, /v1/audio/transcriptions) as requests into the
/// same session as chat: one user turn built from the manifest's task prompt, run to the end. They share the
/// engine, limits and batching with chat.
/// </summary>
public sealed class SingleTurnRunner(GenerationService generation)
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
    /// <param name="budget">The client's token allowance (null: unlimited).</param>
    /// <param name="ct">The client's request token: cancelling it stops the LLM and the generators.</param>
    public async Task<(GenerationResult? Result, ServingError? Error)> RunAsync(
        IReadOnlyList<ChatPart> parts,
        IReadOnlyList<MediaReference> media,
        SamplingParams sampling,
        IReadOnlyList<OutputModality> outputs,
        string textParam,
        string requestId,
        ITokenBudget? budget,
        CancellationToken ct)
    {
        var request = new ValidatedRequest([new ChatTurn("user", parts)], media, sampling, new RequestedOutputs(outputs, null)) { PromptParam = textParam };
        var (session, error) = await generation.StartAsync(request, requestId, budget, ct).ConfigureAwait(false);
        if (error is not null)
        {
            return (null, error);
        }

        var (result, failure) = await session!.CompleteAsync(ct).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();

        // Half an image or a clip cut short is no answer: an aborted task is refused so the client retries elsewhere.
        return result?.Finished.Reason == FinishReason.Abort ? (null, ServingError.ShuttingDown()) : (result, failure);
    }

    /// <summary>The manifest's task prompt with the client's text in place of {text} (a final full stop dropped, since templates end a sentence).</summary>
    public static string FillTemplate(string template, string text) =>
        template.Replace(OutputModalitySpec.TextPlaceholder, text.Trim().TrimEnd('.').TrimEnd(), StringComparison.Ordinal);
}
