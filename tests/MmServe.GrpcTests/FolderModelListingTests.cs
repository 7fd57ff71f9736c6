using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// Models served apart from "Models" are listed by ModelService after the chat models, as GET /v1/models lists them,
/// so clients and the gateway's routing by model find them: a Florence-2 model (image and text in, text out, its
/// encoder's positions as context), then a speech model (audio in, text out, the decoder's window as its context).
/// </summary>
public sealed class FolderModelListingTests() : GrpcServer(new MmServeFactory(new Dictionary<string, string?>
{
    ["SpeechModels:0:Id"] = "tiny-whisper",
    ["SpeechModels:0:Path"] = ConformanceGolden.ModelPath("tiny-whisper"),
    ["Florence2Models:0:Id"] = "tiny-florence2",
    ["Florence2Models:0:Path"] = ConformanceGolden.ModelPath("tiny-florence2"),
}))
{
    [Fact]
    public async Task ListAndGet_DescribeTheFlorence2AndSpeechModels()
    {
        var list = await Models.ListModelsAsync(new ListModelsRequest());
        Assert.Equal([MmServe.TestSupport.Server.Chat.Model, "tiny-florence2", "tiny-whisper"], list.Models.Select(m => m.Id));

        var whisper = await Models.GetModelAsync(new GetModelRequest { Id = "tiny-whisper" });
        Assert.Equal([Modality.Audio], whisper.Capabilities.InputModalities);
        Assert.Equal([Modality.Text], whisper.Capabilities.OutputModalities);
        Assert.Equal(448, whisper.Capabilities.MaxContext);
        Assert.Contains("audio/wav", whisper.Capabilities.AcceptedMimeTypes);
        Assert.DoesNotContain("image/png", whisper.Capabilities.AcceptedMimeTypes);

        var florence2 = await Models.GetModelAsync(new GetModelRequest { Id = "tiny-florence2" });
        Assert.Equal([Modality.Image, Modality.Text], florence2.Capabilities.InputModalities);
        Assert.Equal([Modality.Text], florence2.Capabilities.OutputModalities);
        Assert.Equal(128, florence2.Capabilities.MaxContext); // its config.json text_config.max_position_embeddings
        Assert.Contains("image/png", florence2.Capabilities.AcceptedMimeTypes);
        Assert.DoesNotContain("audio/wav", florence2.Capabilities.AcceptedMimeTypes);
    }

    [Fact]
    public async Task GetModel_OfAnUnknownOrMissingId_IsNotFoundOrInvalid()
    {
        var unknown = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(async () => await Models.GetModelAsync(new GetModelRequest { Id = "nope" }));
        Assert.Equal(global::Grpc.Core.StatusCode.NotFound, unknown.StatusCode);
        var missing = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(async () => await Models.GetModelAsync(new GetModelRequest()));
        Assert.Equal(global::Grpc.Core.StatusCode.InvalidArgument, missing.StatusCode);
    }
}
