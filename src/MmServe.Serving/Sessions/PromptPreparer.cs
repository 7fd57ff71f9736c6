using MmServe.Abstractions;
using MmServe.Model.Chat;
using MmServe.Model.HuggingFace;
using MmServe.Serving.Admission;
using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;

namespace MmServe.Serving.Sessions;

/// <summary>
/// Conversation → prompt ids, the context length check before any media is touched, then the media embeddings
/// spliced at the prompt's placeholder spans. Models whose media token counts depend on the item (Phi-3-V: on
/// the image size) embed the media first and build the prompt with their lengths. Admission (the client's token
/// allowance) is asked as soon as the prompt's length is known, so a client over its allowance costs no media work
/// on the usual path.
/// </summary>
public sealed class PromptPreparer(ServedModel model, MediaEmbedder mediaEmbedder)
{
    private readonly ProjectorInstructions? _instructions = ProjectorInstructions.For(model);

    public Task<(TokenizedPrompt? Prompt, IReadOnlyList<MediaEmbedding> Media, ServingError? Error)> PrepareAsync(
        ValidatedRequest request, CancellationToken ct) => PrepareAsync(request, null, ct);

    /// <param name="request">A request that passed the rules.</param>
    /// <param name="admit">Asked once the prompt fits the context; a refusal ends the preparation. null admits everything.</param>
    /// <param name="ct">The client's request token.</param>
    public async Task<(TokenizedPrompt? Prompt, IReadOnlyList<MediaEmbedding> Media, ServingError? Error)> PrepareAsync(
        ValidatedRequest request, TokenAdmission? admit, CancellationToken ct)
    {
        if (CheckTextLengthBound(request) is { } cannotFit)
        {
            return (null, [], cannotFit);
        }

        if (model.Prompts.NeedsMediaLengths && request.Media.Count > 0)
        {
            return await PrepareMediaFirstAsync(request, admit, ct).ConfigureAwait(false);
        }

        var (prompt, invalid) = Build(request, null);
        if (prompt is null)
        {
            return (null, [], invalid);
        }

        if ((CheckContextLength(prompt.Ids.Length, request) ?? Admit(admit, prompt.Ids.Length, request)) is { } refused)
        {
            return (null, [], refused);
        }

        var (embeddings, mediaError) = await EmbedMediaAsync(request, prompt, ct).ConfigureAwait(false);
        return mediaError is null ? (VisualExpertPrompt.Apply(model.Bundle.Manifest.Decoder, prompt), embeddings, null) : (null, [], mediaError);
    }

    private async Task<(TokenizedPrompt? Prompt, IReadOnlyList<MediaEmbedding> Media, ServingError? Error)> PrepareMediaFirstAsync(
        ValidatedRequest request, TokenAdmission? admit, CancellationToken ct)
    {
        var (items, mediaError) = await EncodeAsync(request, ct).ConfigureAwait(false);
        if (mediaError is not null)
        {
            return (null, [], mediaError);
        }

        int hidden = model.Bundle.Manifest.Decoder.HiddenSize;
        var qwen2VL = model.Bundle.HuggingFace?.Qwen2VL;
        var (prompt, invalid) = Build(request, [.. items!.Select((e, i) =>
            qwen2VL is not null ? Qwen2VLMediaItem.Tokens(e, hidden)
            : RowBreakId(request.Media[i]) is not null ? FuyuMediaItem.Positions(e)
            : e.Length / hidden)]);
        if (prompt is null)
        {
            return (null, [], invalid);
        }

        if ((CheckContextLength(prompt.Ids.Length, request) ?? Admit(admit, prompt.Ids.Length, request)) is { } refused)
        {
            return (null, [], refused);
        }

        if (qwen2VL is not null)
        {
            // M-RoPE: the prompt's positions follow from where each item's run is and from its grid.
            var grids = prompt.MediaSpans.Select(s => Qwen2VLMediaItem.Grid(items![s.ItemIndex]) is var (t, h, w)
                ? new VisionGrid(s.Start, s.Length, t, h, w)
                : default).ToList();
            var positions = Qwen2VLRopeIndex.Compute(prompt.Ids.Length, grids, qwen2VL.SpatialMergeSize);
            var media = prompt.MediaSpans.Select(s => new MediaEmbedding(s.Start, s.Length, Qwen2VLMediaItem.Features(items![s.ItemIndex], hidden))).ToList();
            return (prompt with { Positions = positions }, media, null);
        }

        if (prompt.MediaSpans.Any(s => RowBreakId(request.Media[s.ItemIndex]) is not null))
        {
            // Fuyu: each grid row's embeddings, a row-break token after it (written into the prompt's ids here).
            var media = prompt.MediaSpans.SelectMany(s => RowBreakId(request.Media[s.ItemIndex]) is { } rowBreak
                ? RowBreakRuns.Place(prompt.Ids, s, items![s.ItemIndex], rowBreak, hidden)
                : [new MediaEmbedding(s.Start, s.Length, items![s.ItemIndex])]).ToList();
            return (prompt, media, null);
        }

        return (VisualExpertPrompt.Apply(model.Bundle.Manifest.Decoder, prompt), Splice(prompt, items!), null);
    }

    /// <summary>The row-break token id of the item's modality (Fuyu), or null.</summary>
    private int? RowBreakId(MediaReference reference) =>
        model.Bundle.Manifest.InputModalities.GetValueOrDefault(reference.Modality)?.RowBreakToken is { } token ? model.Tokenizer.TokenToId(token) : null;

    /// <summary>The completion budget is max_tokens, or all the context leaves when the client set none (the most it can cost).</summary>
    private ServingError? Admit(TokenAdmission? admit, int promptTokens, ValidatedRequest request) =>
        admit?.Invoke(promptTokens, request.Sampling.MaxTokens ?? Math.Max(0, model.MaxContext - promptTokens));

    /// <summary>A conversation the model's chat template rejects is the client's error (400), named on its messages.</summary>
    private (TokenizedPrompt? Prompt, ServingError? Error) Build(ValidatedRequest request, IReadOnlyList<int>? mediaLengths)
    {
        try
        {
            return (model.Prompts.Build(request.Conversation, mediaLengths: mediaLengths, tools: request.Tools?.Tools), null);
        }
        catch (ArgumentException e)
        {
            return (null, ServingError.Invalid($"The conversation cannot be formatted for this model: {e.Message}", request.PromptParam, "invalid_conversation"));
        }
    }

    /// <summary>
    /// Text that cannot fit whatever it tokenizes to, refused from its length before the tokenizer runs: BPE costs
    /// about a second per few megabytes, so a body of long text parts would otherwise buy seconds of a core for a 400.
    /// </summary>
    private ServingError? CheckTextLengthBound(ValidatedRequest request)
    {
        long atLeast = 0;
        foreach (var turn in request.Conversation)
        {
            foreach (var part in turn.Parts)
            {
                if (part is ChatPart.Text text)
                {
                    atLeast += model.Tokenizer.MinimumTokens(text.Value);
                }
            }
        }

        int maxContext = model.MaxContext;
        long completion = request.Sampling.MaxTokens ?? 1;
        if (atLeast + completion <= maxContext)
        {
            return null;
        }

        var message = $"This model's maximum context length is {maxContext} tokens. However, your messages are at least {atLeast} tokens long "
            + "(judged from their length, before tokenizing), leaving no room for "
            + (request.Sampling.MaxTokens is null ? "a completion" : $"a completion of {completion} tokens ({request.MaxTokensParam})")
            + ". Please reduce the length of the messages.";
        return ServingError.Invalid(message, request.PromptParam, "context_length_exceeded");
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
        ValidatedRequest request, TokenizedPrompt prompt, CancellationToken ct)
    {
        if (request.Media.Count == 0)
        {
            return ([], null);
        }

        var (embeddings, error) = await EncodeAsync(request, ct).ConfigureAwait(false);
        return error is null ? (Splice(prompt, embeddings!), null) : ([], error);
    }

    private async Task<(IReadOnlyList<float[]>? Embeddings, ServingError? Error)> EncodeAsync(ValidatedRequest request, CancellationToken ct)
    {
        var references = request.Media;
        var instructions = _instructions?.Build(request.Conversation, references.Count);
        var result = await mediaEmbedder.EmbedAsync(references, instructions, ct).ConfigureAwait(false);
        return result.Error is { } error
            ? (null, ServingError.FromMedia(error, references[result.FailedIndex].Param))
            : (result.Embeddings!, null);
    }

    private static List<MediaEmbedding> Splice(TokenizedPrompt prompt, IReadOnlyList<float[]> embeddings)
    {
        var media = new List<MediaEmbedding>(prompt.MediaSpans.Count);
        foreach (var span in prompt.MediaSpans)
        {
            media.Add(new MediaEmbedding(span.Start, span.Length, embeddings[span.ItemIndex]));
        }

        return media;
    }
}
