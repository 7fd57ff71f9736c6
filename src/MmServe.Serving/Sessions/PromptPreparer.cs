using MmServe.Abstractions;
using MmServe.Model.Chat;
using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;

namespace MmServe.Serving.Sessions;

/// <summary>
/// Conversation → prompt ids, the context length check before any media is touched, then the media embeddings
/// spliced at the prompt's placeholder spans.
/// </summary>
public sealed class PromptPreparer(ServedModel model, MediaEmbedder mediaEmbedder)
{
    public async Task<(TokenizedPrompt? Prompt, IReadOnlyList<MediaEmbedding> Media, ServingError? Error)> PrepareAsync(
        ValidatedRequest request, CancellationToken ct)
    {
        var prompt = model.Prompts.Build(request.Conversation);
        if (CheckContextLength(prompt.Ids.Length, request) is { } tooLong)
        {
            return (null, [], tooLong);
        }

        var (embeddings, mediaError) = await EmbedMediaAsync(request.Media, prompt, ct).ConfigureAwait(false);
        return mediaError is null ? (prompt, embeddings, null) : (null, [], mediaError);
    }

    /// <summary>Checked before any media is fetched or decoded; the engine checks again at submission.</summary>
    private ServingError? CheckContextLength(int promptTokens, ValidatedRequest request)
    {
        int maxContext = model.MaxContext;
        int? maxTokens = request.Sampling.MaxTokens;
        int completion = maxTokens ?? 1;
        if ((long)promptTokens + completion <= maxContext)
        {
            return null;
        }

        var message = maxTokens is null || promptTokens >= maxContext
            ? $"This model's maximum context length is {maxContext} tokens. However, your messages resulted in {promptTokens} tokens, leaving no room for a completion. Please reduce the length of the messages."
            : $"This model's maximum context length is {maxContext} tokens. However, you requested {(long)promptTokens + completion} tokens ({promptTokens} in the messages, {completion} in the completion). Please reduce the length of the messages or the completion ({request.MaxTokensParam}).";
        return ServingError.Invalid(message, request.PromptParam, "context_length_exceeded");
    }

    private async Task<(IReadOnlyList<MediaEmbedding> Media, ServingError? Error)> EmbedMediaAsync(
        IReadOnlyList<MediaReference> references, TokenizedPrompt prompt, CancellationToken ct)
    {
        if (references.Count == 0)
        {
            return ([], null);
        }

        var result = await mediaEmbedder.EmbedAsync(references, ct).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            return ([], ServingError.FromMedia(error, references[result.FailedIndex].Param));
        }

        var embeddings = result.Embeddings!;
        var media = new List<MediaEmbedding>(references.Count);
        foreach (var span in prompt.MediaSpans)
        {
            media.Add(new MediaEmbedding(span.Start, span.Length, embeddings[span.ItemIndex]));
        }

        return (media, null);
    }
}
