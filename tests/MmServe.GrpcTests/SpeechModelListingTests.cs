using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// A speech model (a "SpeechModels" entry) is listed by ModelService after the chat models, as GET /v1/models lists it,
/// so clients and the gateway's routing by model find it: audio in, text out, the decoder's window as its context.
/// </summary>
public sealed class SpeechModelListingTests() : GrpcServer(new MmServeFactory(new Dictionary<string, string?>
{
    ["SpeechModels:0:Id"] = "tiny-whisper",
    ["SpeechModels:0:Path"] = ConformanceGolden.ModelPath("tiny-whisper"),
}))
{
    [Fact]
    public async Task ListAndGet_DescribeTheSpeechModel()
    {
        var list = await Models.ListModelsAsync(new ListModelsRequest());
        Assert.Equal([MmServe.TestSupport.Server.Chat.Model, "tiny-whisper"], list.Models.Select(m => m.Id));

        var whisper = await Models.GetModelAsync(new GetModelRequest { Id = "tiny-whisper" });
        Assert.Equal([Modality.Audio], whisper.Capabilities.InputModalities);
        Assert.Equal([Modality.Text], whisper.Capabilities.OutputModalities);
        Assert.Equal(448, whisper.Capabilities.MaxContext);
        Assert.Contains("audio/wav", whisper.Capabilities.AcceptedMimeTypes);
        Assert.DoesNotContain("image/png", whisper.Capabilities.AcceptedMimeTypes);
    }
}
