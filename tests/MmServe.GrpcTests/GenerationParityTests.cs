using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// Generated media over gRPC: asking for MODALITY_IMAGE / MODALITY_AUDIO output returns the reference's image
/// (PNG bytes, max |Δ| ≤ 2/255) and clip (WAV bytes, RMS ≤ 1e-3) as GeneratedMedia, with the completion's
/// tokens and the signal tokens' span — streamed, unary, and all at once.
/// </summary>
public sealed class GenerationParityTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>
{
    public static TheoryData<string> CaseIds => [.. GoldenCases.Generation.Select(c => c.Id)];

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task GenerationCase_Streamed_MatchesReference(string id)
    {
        var golden = GoldenCases.Get(id);
        var chat = await StreamedChat.ReadAsync(server.Chat, Request(golden));
        Assert.Equal(golden.CompletionTokenIds, chat.TokenIds);
        AssertMedia(golden, Assert.Single(chat.Media));

        // The media chunk comes after the deltas carrying its signal tokens, and before the finish.
        int mediaAt = chat.Chunks.ToList().FindIndex(c => c.EventCase == ChatChunk.EventOneofCase.Media);
        Assert.InRange(mediaAt, 1, chat.Chunks.Count - 2);
        Assert.Equal(ChatChunk.EventOneofCase.Finished, chat.Chunks[^1].EventCase);
        Assert.True(chat.Chunks.Take(mediaAt).SelectMany(c => c.EventCase == ChatChunk.EventOneofCase.Delta ? c.Delta.TokenIds : []).Count() >= chat.Media[0].TokenEnd);
    }

    [Fact]
    public async Task GenerationCases_AllAtOnce_UnaryAndStreamed_MatchReference()
    {
        var cases = GoldenCases.Generation;
        var unary = cases.Select(async c =>
        {
            var response = await server.Chat.ChatAsync(Request(c));
            Assert.Equal(c.CompletionTokenIds, response.TokenIds);
            AssertMedia(c, Assert.Single(response.Media));
        });
        var streamed = cases.Select(async c =>
        {
            var chat = await StreamedChat.ReadAsync(server.Chat, Request(c));
            Assert.Equal(c.CompletionTokenIds, chat.TokenIds);
            AssertMedia(c, Assert.Single(chat.Media));
        });
        await Task.WhenAll(unary.Concat(streamed));
    }

    private static ChatRequest Request(GoldenCase golden)
    {
        var request = GrpcGolden.ToRequest(golden);
        request.OutputModalities.Add(Modality.Text);
        request.OutputModalities.Add(golden.Generated!.Modality == "image" ? Modality.Image : Modality.Audio);
        return request;
    }

    private static void AssertMedia(GoldenCase golden, GeneratedMedia media)
    {
        var reference = golden.Generated!.Values();
        Assert.Equal(0, media.Index);
        // The signal tokens are the last four before <|im_end|>.
        Assert.Equal(golden.CompletionTokenIds.Length - 5, media.TokenStart);
        Assert.Equal(golden.CompletionTokenIds.Length - 1, media.TokenEnd);
        if (golden.Generated.Modality == "image")
        {
            Assert.Equal(Modality.Image, media.Modality);
            Assert.Equal("image/png", media.MimeType);
            GeneratedMediaAssert.ImageMatches(media.Data.ToByteArray(), reference, golden.Id);
        }
        else
        {
            Assert.Equal(Modality.Audio, media.Modality);
            Assert.Equal("audio/wav", media.MimeType);
            GeneratedMediaAssert.WavMatches(media.Data.ToByteArray(), reference, 16000, golden.Id);
        }
    }
}
