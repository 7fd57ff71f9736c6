using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// Over gRPC, with media as raw bytes, greedy decoding reproduces the bundle's golden cases token for token:
/// the prompt the server builds and the tokens it generates, streamed and unary, alone and with every case in
/// flight at once — text, images, audio (WAV) and video (MP4, via ffmpeg).
/// </summary>
public sealed class GoldenParityTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>
{
    public static TheoryData<string> CaseIds => [.. GrpcGolden.WithoutVideo.Select(c => c.Id)];

    public static TheoryData<string> VideoCaseIds => [.. GrpcGolden.Video.Select(c => c.Id)];

    [Fact]
    public void GoldenCases_AreAllCovered()
    {
        // Every case is in exactly one of the two lists, generated-media cases included.
        Assert.Equal(GoldenCases.All.Count, GrpcGolden.WithoutVideo.Count + GrpcGolden.Video.Count);
        Assert.NotEmpty(GrpcGolden.GeneratedModality);
        Assert.All(GrpcGolden.GeneratedModality.Keys, id => Assert.Contains(GrpcGolden.WithoutVideo, c => c.Id == id));
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task GoldenCase_Streamed_MatchesReferenceTokens(string id)
    {
        var golden = GoldenCases.Get(id);
        var chat = await StreamedChat.ReadAsync(server.Chat, GrpcGolden.ToRequest(golden));
        AssertMatches(golden, chat);
    }

    [FfmpegTheory]
    [MemberData(nameof(VideoCaseIds))]
    public async Task VideoGoldenCase_Streamed_MatchesReferenceTokens(string id)
    {
        var golden = GoldenCases.Get(id);
        var chat = await StreamedChat.ReadAsync(server.Chat, GrpcGolden.ToRequest(golden));
        AssertMatches(golden, chat);
    }

    [Fact]
    public async Task GoldenCases_AllInFlightAtOnce_Streamed_MatchReferenceTokens()
    {
        var cases = GrpcGolden.WithoutVideo;
        var chats = await Task.WhenAll(cases.Select(c => StreamedChat.ReadAsync(server.Chat, GrpcGolden.ToRequest(c))));
        for (int i = 0; i < cases.Count; i++)
        {
            AssertMatches(cases[i], chats[i]);
        }
    }

    [FfmpegFact]
    public async Task GoldenCases_IncludingVideo_AllInFlightAtOnce_Unary_MatchReferenceTokens()
    {
        var cases = GoldenCases.All;
        var responses = await Task.WhenAll(cases.Select(c => server.Chat.ChatAsync(GrpcGolden.ToRequest(c)).ResponseAsync));
        for (int i = 0; i < cases.Count; i++)
        {
            var (golden, response) = (cases[i], responses[i]);
            Assert.Equal(golden.Id, response.RequestId);
            Assert.Equal(golden.PromptTokenIds, response.PromptTokenIds);
            Assert.True(golden.CompletionTokenIds.SequenceEqual(response.TokenIds), $"{golden.Id}: got [{string.Join(",", response.TokenIds)}]");
            Assert.Equal(golden.CompletionText, response.Text);
            Assert.Equal(FinishReasonOf(golden), response.FinishReason);
            AssertUsage(golden, response.Usage);
        }
    }

    private static void AssertMatches(GoldenCase golden, StreamedChat chat)
    {
        Assert.Equal(ChatChunk.EventOneofCase.Started, chat.Chunks[0].EventCase);
        Assert.Equal(ChatChunk.EventOneofCase.Finished, chat.Chunks[^1].EventCase);
        Assert.All(chat.Chunks, c => Assert.Equal(golden.Id, c.RequestId));
        Assert.Equal(golden.PromptTokenIds, chat.Started.PromptTokenIds);
        Assert.True(golden.CompletionTokenIds.SequenceEqual(chat.TokenIds), $"{golden.Id}: expected [{string.Join(",", golden.CompletionTokenIds)}] got [{string.Join(",", chat.TokenIds)}]");
        Assert.Equal(golden.CompletionText, chat.Text);
        Assert.Equal(FinishReasonOf(golden), chat.Finished.Reason);
        AssertUsage(golden, chat.Finished.Usage);
    }

    private static void AssertUsage(GoldenCase golden, Usage usage)
    {
        Assert.Equal(golden.PromptTokenIds.Length, usage.PromptTokens);
        Assert.Equal(golden.CompletionTokenIds.Length, usage.CompletionTokens);
        Assert.Equal(golden.PromptTokenIds.Length + golden.CompletionTokenIds.Length, usage.TotalTokens);
    }

    private static FinishReason FinishReasonOf(GoldenCase golden) =>
        golden.FinishReason == "length" ? FinishReason.Length : FinishReason.Stop;
}
