using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>mmserve-tiny, tiny-blip2 and tiny-fuyu on one server (the Models list), with a gRPC channel.</summary>
public sealed class FamilyGrpcServerFixture() : GrpcServer(new MmServeFactory(FamilyServing.ServerSettings()));

/// <summary>
/// Families 1 and 2 of issue 19 over gRPC, images as raw bytes: every golden case of tiny-blip2 (instruction-aware
/// Q-Former) and tiny-fuyu (encoder-free patches with row breaks) gives PyTorch's greedy tokens, streamed alone, and
/// unary with both families' cases and mmserve-tiny's text and image cases all in flight at once.
/// </summary>
public sealed class FamilyGoldenParityTests(FamilyGrpcServerFixture server) : IClassFixture<FamilyGrpcServerFixture>
{
    public static TheoryData<string, string> CaseIds
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var family in FamilyServing.Families)
            {
                foreach (var golden in FamilyServing.Cases(family))
                {
                    data.Add(family, golden.Id);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task GoldenCase_Streamed_MatchesPyTorch(string family, string id)
    {
        var golden = FamilyServing.Case(family, id);
        var chat = await StreamedChat.ReadAsync(server.Chat, Request(golden, family));
        Assert.Equal(golden.PromptTokenIds, chat.Started.PromptTokenIds);
        Assert.True(golden.CompletionTokenIds.SequenceEqual(chat.TokenIds), $"{family}/{id}: got [{string.Join(",", chat.TokenIds)}]");
        Assert.Equal(golden.CompletionText, chat.Text);
        Assert.Equal(FinishReason.Stop, chat.Finished.Reason);
    }

    [Fact]
    public async Task BothFamiliesAndMmserveTiny_AllInFlightAtOnce_Unary_MatchTheirGoldens()
    {
        var requests = FamilyServing.Families.SelectMany(f => FamilyServing.Cases(f).Select(c => (Golden: c, Request: Request(c, f))))
            .Concat(GoldenCases.TextAndImage.Select(c => (Golden: c, Request: GrpcGolden.ToRequest(c))))
            .ToList();
        var responses = await Task.WhenAll(requests.Select(r => server.Chat.ChatAsync(r.Request).ResponseAsync));
        var failures = new List<string>();
        for (int i = 0; i < requests.Count; i++)
        {
            var (golden, response) = (requests[i].Golden, responses[i]);
            if (!golden.PromptTokenIds.SequenceEqual(response.PromptTokenIds) || !golden.CompletionTokenIds.SequenceEqual(response.TokenIds)
                || golden.CompletionText != response.Text)
            {
                failures.Add($"{requests[i].Request.Model}/{golden.Id}: got [{string.Join(",", response.TokenIds)}] '{response.Text}'");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static ChatRequest Request(GoldenCase golden, string model)
    {
        var request = GrpcGolden.ToRequest(golden);
        request.Model = model;
        request.RequestId = $"{model}/{golden.Id}";
        return request;
    }
}
