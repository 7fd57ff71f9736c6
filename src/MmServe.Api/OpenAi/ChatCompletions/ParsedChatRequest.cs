using MmServe.Abstractions;
using MmServe.Api.Serving.Generation;
using MmServe.Api.Serving.Media;
using MmServe.Model.Chat;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>A validated chat request in engine terms; no media has been decoded yet.</summary>
/// <param name="Conversation">The messages, media as <see cref="ChatPart.Media"/> numbered in order of appearance.</param>
/// <param name="Media">Media item i (any modality) in order of appearance: its source and request field.</param>
/// <param name="Sampling">Validated sampling parameters.</param>
/// <param name="Stream">Answer with server-sent events.</param>
/// <param name="IncludeUsage">stream_options.include_usage: add a usage chunk before [DONE].</param>
/// <param name="ReturnTokenIds">Extension: return prompt and completion token ids.</param>
/// <param name="MaxTokensParam">"max_completion_tokens" or "max_tokens", whichever the client used.</param>
internal sealed record ParsedChatRequest(
    IReadOnlyList<ChatTurn> Conversation,
    IReadOnlyList<MediaReference> Media,
    SamplingParams Sampling,
    bool Stream,
    bool IncludeUsage,
    bool ReturnTokenIds,
    string MaxTokensParam)
{
    /// <summary>Media to generate besides text ("modalities", "audio").</summary>
    public RequestedOutputs Outputs { get; init; } = RequestedOutputs.TextOnly;
}
