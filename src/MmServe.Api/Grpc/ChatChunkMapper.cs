using MmServe.Abstractions;
using MmServe.Api.OpenAi.ChatCompletions;
using MmServe.Engine;
using MmServe.Grpc.V1;
using GrpcFinishReason = MmServe.Grpc.V1.FinishReason;
using GrpcTokenLogprob = MmServe.Grpc.V1.TokenLogprob;
using Usage = MmServe.Grpc.V1.Usage;
using TopLogprob = MmServe.Grpc.V1.TopLogprob;

namespace MmServe.Api.Grpc;

/// <summary>Engine events to mmserve.v1 messages. Token strings come from the REST API's cached <see cref="LogprobsMapper"/>.</summary>
internal sealed class ChatChunkMapper(LogprobsMapper logprobs)
{
    public Delta ToDelta(TokenDeltaEvent delta)
    {
        var message = new Delta { Text = delta.Text };
        message.TokenIds.AddRange(delta.TokenIds);
        if (delta.Logprobs is { } entries)
        {
            message.Logprobs.AddRange(entries.Select(ToLogprob));
        }

        return message;
    }

    public GrpcTokenLogprob ToLogprob(MmServe.Engine.TokenLogprob logprob)
    {
        // The mapper also turns -Infinity into OpenAI's -9999, which keeps both APIs' numbers equal.
        var entry = logprobs.Map(logprob);
        var message = new GrpcTokenLogprob { TokenId = logprob.TokenId, Token = entry.Token, Logprob = entry.Logprob };
        for (int i = 0; i < entry.TopLogprobs.Count; i++)
        {
            message.TopLogprobs.Add(new TopLogprob
            {
                TokenId = logprob.TopLogprobs[i].TokenId,
                Token = entry.TopLogprobs[i].Token,
                Logprob = entry.TopLogprobs[i].Logprob,
            });
        }

        return message;
    }

    public static ChatFinished ToFinished(FinishedEvent finished) => new()
    {
        Reason = ToProto(finished.Reason),
        Usage = ToUsage(finished),
    };

    public static Usage ToUsage(FinishedEvent finished) => new()
    {
        PromptTokens = finished.PromptTokens,
        CompletionTokens = finished.CompletionTokens,
        TotalTokens = finished.PromptTokens + finished.CompletionTokens,
    };

    /// <summary>A generated image (PNG) or clip (WAV at the model's rate) as raw bytes with its MIME type.</summary>
    public static MmServe.Grpc.V1.GeneratedMedia ToProto(MmServe.Api.Serving.Generation.GeneratedMedia media, int index) => new()
    {
        Modality = ModalityNames.ToProto(media.Modality.Name),
        MimeType = media.IsImage ? "image/png" : "audio/wav",
        // The encoded array is fresh and never touched again, so the message can own it without a copy.
        Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(media.IsImage ? media.ToPng() : media.ToWav()),
        Index = index,
        TokenStart = media.TokenStart,
        TokenEnd = media.TokenEnd,
    };

    public static GrpcFinishReason ToProto(MmServe.Abstractions.FinishReason reason) =>
        reason == MmServe.Abstractions.FinishReason.Length ? GrpcFinishReason.Length : GrpcFinishReason.Stop;
}
