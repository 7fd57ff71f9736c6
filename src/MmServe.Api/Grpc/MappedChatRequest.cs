using MmServe.Abstractions;
using MmServe.Api.Serving.Generation;
using MmServe.Api.Serving.Media;
using MmServe.Model.Chat;

namespace MmServe.Api.Grpc;

/// <summary>A validated gRPC ChatRequest in engine terms; no media has been read or decoded yet.</summary>
/// <param name="Conversation">The messages, media as <see cref="ChatPart.Media"/> numbered in order of appearance.</param>
/// <param name="Media">Media item i in order of appearance, with the request field it came from.</param>
/// <param name="Sampling">Validated sampling parameters (logprobs included).</param>
internal sealed record MappedChatRequest(
    IReadOnlyList<ChatTurn> Conversation,
    IReadOnlyList<MediaReference> Media,
    SamplingParams Sampling)
{
    /// <summary>Output modalities to generate besides text (images as PNG, audio as WAV).</summary>
    public IReadOnlyList<OutputModality> Outputs { get; init; } = [];
}
