using MmServe.Grpc.V1;
using MmServe.Serving.Sessions;
using GrpcFinishReason = MmServe.Grpc.V1.FinishReason;
using GrpcTokenLogprob = MmServe.Grpc.V1.TokenLogprob;
using TopLogprob = MmServe.Grpc.V1.TopLogprob;
using Usage = MmServe.Grpc.V1.Usage;

namespace MmServe.Api.Grpc;

/// <summary>Session events to mmserve.v1 messages.</summary>
internal sealed class ChatChunkMapper
{
    public Delta ToDelta(TextDelta delta)
    {
        var message = new Delta { Text = delta.Text };
        message.TokenIds.AddRange(delta.TokenIds);
        if (delta.Logprobs is { } entries)
        {
            message.Logprobs.AddRange(entries.Select(ToLogprob));
        }

        return message;
    }

    /// <summary>The session's entry: the same token strings and -9999 floor as the REST API reports.</summary>
    public static GrpcTokenLogprob ToLogprob(LogprobEntry entry)
    {
        var message = new GrpcTokenLogprob { TokenId = entry.TokenId, Token = entry.Token, Logprob = entry.Logprob };
        message.TopLogprobs.AddRange(entry.TopLogprobs.Select(t => new TopLogprob { TokenId = t.TokenId, Token = t.Token, Logprob = t.Logprob }));
        return message;
    }

    public static ChatFinished ToFinished(SessionFinished finished, int toolCalls) => new()
    {
        Reason = ToProto(finished.Reason, toolCalls),
        Usage = ToUsage(finished),
    };

    public static Usage ToUsage(SessionFinished finished) => new()
    {
        PromptTokens = finished.PromptTokens,
        CompletionTokens = finished.CompletionTokens,
        TotalTokens = finished.TotalTokens,
    };

    /// <summary>A generated image (PNG) or clip (WAV at the model's rate) as raw bytes with its MIME type.</summary>
    public static MmServe.Grpc.V1.GeneratedMedia ToProto(MmServe.Serving.Generation.GeneratedMedia media, int index) => new()
    {
        Modality = ModalityNames.ToProto(media.Modality.Name),
        MimeType = media.IsImage ? "image/png" : "audio/wav",
        // The encoded array is fresh and never touched again, so the message can own it without a copy.
        Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(media.IsImage ? media.ToPng() : media.ToWav()),
        Index = index,
        TokenStart = media.TokenStart,
        TokenEnd = media.TokenEnd,
    };

    /// <summary>TOOL_CALLS for an answer that ended on its own with tool calls in it (as REST's "tool_calls").</summary>
    public static GrpcFinishReason ToProto(MmServe.Abstractions.FinishReason reason, int toolCalls) =>
        reason == MmServe.Abstractions.FinishReason.Length ? GrpcFinishReason.Length
        : toolCalls > 0 ? GrpcFinishReason.ToolCalls
        : GrpcFinishReason.Stop;
}
