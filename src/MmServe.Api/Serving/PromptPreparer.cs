using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.Serving.Media;
using MmServe.Model.Chat;

namespace MmServe.Api.Serving;

/// <summary>
/// The protocol-neutral middle of a request, shared by REST chat, the REST task endpoints and gRPC: conversation →
/// prompt ids, the context length check before any media is touched, then the media embeddings spliced at the
/// prompt's placeholder spans.
/// </summary>
internal sealed class PromptPreparer(ServedModel model, MediaEmbedder mediaEmbedder)
{
    /// <param name="conversation">Validated turns, media numbered in order of appearance.</param>
    /// <param name="media">Media item i of the conversation.</param>
    /// <param name="maxTokens">The requested completion length, if any.</param>
    /// <param name="maxTokensParam">How the client named max_tokens, for the error message.</param>
    /// <param name="ct">The request's cancellation (client gone, deadline).</param>
    /// <param name="promptParam">The request field named when the prompt does not fit ("messages", "prompt", "input").</param>
    public async Task<(TokenizedPrompt? Prompt, IReadOnlyList<MediaEmbedding> Media, ApiError? Error)> PrepareAsync(
        IReadOnlyList<ChatTurn> conversation,
        IReadOnlyList<MediaReference> media,
        int? maxTokens,
        string maxTokensParam,
        CancellationToken ct,
        string promptParam = "messages")
    {
        var prompt = model.Prompts.Build(conversation);
        if (CheckContextLength(prompt.Ids.Length, maxTokens, maxTokensParam, promptParam) is { } tooLong)
        {
            return (null, [], tooLong);
        }

        var (embeddings, mediaError) = await EmbedMediaAsync(media, prompt, ct).ConfigureAwait(false);
        return mediaError is null ? (prompt, embeddings, null) : (null, [], mediaError);
    }

    /// <summary>Checked before any media is fetched or decoded; the engine checks again at submission.</summary>
    private ApiError? CheckContextLength(int promptTokens, int? maxTokens, string maxTokensParam, string promptParam)
    {
        int maxContext = model.MaxContext;
        int completion = maxTokens ?? 1;
        if ((long)promptTokens + completion <= maxContext)
        {
            return null;
        }

        var message = maxTokens is null || promptTokens >= maxContext
            ? $"This model's maximum context length is {maxContext} tokens. However, your messages resulted in {promptTokens} tokens, leaving no room for a completion. Please reduce the length of the messages."
            : $"This model's maximum context length is {maxContext} tokens. However, you requested {(long)promptTokens + completion} tokens ({promptTokens} in the messages, {completion} in the completion). Please reduce the length of the messages or the completion ({maxTokensParam}).";
        return ApiError.InvalidRequest(message, promptParam, "context_length_exceeded");
    }

    private async Task<(IReadOnlyList<MediaEmbedding> Media, ApiError? Error)> EmbedMediaAsync(
        IReadOnlyList<MediaReference> references, TokenizedPrompt prompt, CancellationToken ct)
    {
        if (references.Count == 0)
        {
            return ([], null);
        }

        var result = await mediaEmbedder.EmbedAsync(references, ct).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            return ([], ApiError.FromMedia(error, references[result.FailedIndex].Param));
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
