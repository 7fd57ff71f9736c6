using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>tiny-flamingo (gated cross-attention) and mmserve-tiny served by one process, reached over gRPC.</summary>
public sealed class FlamingoGrpcServerFixture() : GrpcServer(new MmServeFactory(FlamingoGolden.WithMmServeTiny()));

/// <summary>
/// Over gRPC, with images as raw bytes, tiny-flamingo reproduces its golden cases token for token: streamed alone,
/// and unary with every case in flight at once together with mmserve-tiny's text and image cases, whose tokens must
/// not change either.
/// </summary>
public sealed class FlamingoGoldenParityTests(FlamingoGrpcServerFixture server) : IClassFixture<FlamingoGrpcServerFixture>
{
    public static TheoryData<string> CaseIds => [.. FlamingoGolden.Cases.Select(c => c.Id)];

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task GoldenCase_Streamed_MatchesReferenceTokens(string id)
    {
        var golden = FlamingoGolden.Get(id);
        var chat = await StreamedChat.ReadAsync(server.Chat, Request(golden));

        Assert.Equal(golden.PromptTokenIds, chat.Started.PromptTokenIds);
        Assert.True(golden.CompletionTokenIds.SequenceEqual(chat.TokenIds), $"{golden.Id}: expected [{string.Join(",", golden.CompletionTokenIds)}] got [{string.Join(",", chat.TokenIds)}]");
        Assert.Equal(golden.CompletionText, chat.Text);
    }

    [Fact]
    public async Task GoldenCases_AllInFlightAtOnce_WithMmServeTinyCases_Unary_MatchReferenceTokens()
    {
        var cases = FlamingoGolden.Cases.Select(c => (Golden: c, Request: Request(c)))
            .Concat(GoldenCases.TextAndImage.Select(c => (Golden: c, Request: GrpcGolden.ToRequest(c))))
            .ToList();
        var responses = await Task.WhenAll(cases.Select(c => server.Chat.ChatAsync(c.Request).ResponseAsync));
        for (int i = 0; i < cases.Count; i++)
        {
            var (golden, response) = (cases[i].Golden, responses[i]);
            Assert.Equal(golden.PromptTokenIds, response.PromptTokenIds);
            Assert.True(golden.CompletionTokenIds.SequenceEqual(response.TokenIds), $"{golden.Id}: got [{string.Join(",", response.TokenIds)}]");
            Assert.Equal(golden.CompletionText, response.Text);
        }
    }

    private static ChatRequest Request(GoldenCase golden)
    {
        var request = GrpcGolden.ToRequest(golden);
        request.Model = FlamingoGolden.Model;
        return request;
    }
}
