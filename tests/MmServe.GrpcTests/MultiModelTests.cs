using Grpc.Core;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>Two models in one process over gRPC: ModelService lists both, and a chat names the one it wants.</summary>
public sealed class MultiModelTests() : GrpcServer(new MmServeFactory(new Dictionary<string, string?>
    {
        ["Model:Path"] = null,
        ["Models:0:Id"] = "tiny-a",
        ["Models:0:Path"] = TestPaths.Bundle,
        ["Models:1:Id"] = "tiny-b",
        ["Models:1:Path"] = TestPaths.Bundle,
    }))
{
    [Fact]
    public async Task ListAndGetModels_CoverEveryServedModel()
    {
        var models = await Models.ListModelsAsync(new ListModelsRequest());
        Assert.Equal(["tiny-a", "tiny-b"], models.Models.Select(m => m.Id));
        Assert.Equal("tiny-b", (await Models.GetModelAsync(new GetModelRequest { Id = "tiny-b" })).Id);
        var e = await Assert.ThrowsAsync<RpcException>(() => Models.GetModelAsync(new GetModelRequest { Id = "mmserve-tiny" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task Chat_IsAnsweredByTheModelItNames()
    {
        var golden = GoldenCases.WithoutVideo.First(c => !c.Messages.ToJsonString().Contains("\"image_url\"", StringComparison.Ordinal)
            && !c.Messages.ToJsonString().Contains("\"input_audio\"", StringComparison.Ordinal));
        var request = GrpcGolden.ToRequest(golden);
        request.Model = "tiny-b";
        var response = await Chat.ChatAsync(request);
        Assert.Equal("tiny-b", response.Model);
        Assert.Equal(golden.CompletionTokenIds, response.TokenIds);
    }
}
