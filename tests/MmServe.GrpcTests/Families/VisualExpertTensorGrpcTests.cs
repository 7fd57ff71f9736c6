using Google.Protobuf;
using Grpc.Core;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests.Families;

/// <summary>
/// Over gRPC (tensors as TensorInput .npy bytes, images as raw bytes), tiny-cogvlm's and tiny-imagebind's golden cases
/// reproduce PyTorch's greedy tokens alone and all in flight at once with mmserve-tiny's cases on the same server; a
/// tensor the model cannot take is INVALID_ARGUMENT naming the field, as over REST.
/// </summary>
public sealed class VisualExpertTensorGrpcTests(VisualExpertTensorGrpcServer server) : IClassFixture<VisualExpertTensorGrpcServer>
{
    private static readonly string[] FamilyModels = ["tiny-cogvlm", "tiny-imagebind"];

    public static TheoryData<string, string> CaseIds
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var model in FamilyModels)
            {
                foreach (var c in FamilyGolden.Load(model))
                {
                    data.Add(model, c.Id);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task GoldenCase_Streamed_MatchesReferenceTokens(string model, string id)
    {
        var golden = FamilyGolden.Load(model).Single(c => c.Id == id);
        var chat = await StreamedChat.ReadAsync(server.Chat, GrpcGolden.ToRequest(golden));
        Assert.Equal(golden.PromptTokenIds, chat.Started.PromptTokenIds);
        Assert.True(golden.CompletionTokenIds.SequenceEqual(chat.TokenIds), $"{model}/{id}: got [{string.Join(",", chat.TokenIds)}]");
        Assert.Equal(golden.CompletionText, chat.Text);
    }

    [Fact]
    public async Task EveryGoldenCase_WithMmserveTiny_AllInFlightAtOnce_Unary_MatchReferenceTokens()
    {
        var cases = FamilyModels.SelectMany(m => FamilyGolden.Load(m)).Concat(GoldenCases.TextAndImage).ToList();
        var responses = await Task.WhenAll(cases.Select(c => server.Chat.ChatAsync(GrpcGolden.ToRequest(c)).ResponseAsync));
        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            if (!cases[i].PromptTokenIds.SequenceEqual(responses[i].PromptTokenIds) || !cases[i].CompletionTokenIds.SequenceEqual(responses[i].TokenIds)
                || cases[i].CompletionText != responses[i].Text)
            {
                failures.Add($"{cases[i].Model}/{cases[i].Id}: got [{string.Join(",", responses[i].TokenIds)}] '{responses[i].Text}'");
            }
        }

        Assert.True(cases.Count >= 90, $"only {cases.Count} cases");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("depth", "float64", "invalid_tensor")]
    [InlineData("depth", "nan", "invalid_tensor")]
    [InlineData("depth", "truncated", "invalid_tensor")]
    [InlineData("thermal", "good", "unsupported_content_type")]
    public async Task BadTensor_IsInvalidArgument(string modality, string what, string code)
    {
        long[] shape = [1, 32, 32];
        byte[] npy = what switch
        {
            "float64" => NpyWriter.Write("<f8", false, [1, 32, 16], new byte[512 * 8]), // no larger than an accepted file
            "nan" => NpyWriter.Float32(shape, i => i == 5 ? float.NaN : 5f),
            "truncated" => NpyWriter.Float32(shape, _ => 5f)[..30],
            _ => NpyWriter.Float32(shape, _ => 5f),
        };
        var request = new ChatRequest { Model = "tiny-imagebind", Sampling = new SamplingParams { Temperature = 0, MaxTokens = 4 } };
        var message = new Message { Role = Role.User };
        message.Content.Add(new ContentPart { Tensor = new TensorInput { Modality = modality, Npy = ByteString.CopyFrom(npy) } });
        message.Content.Add(new ContentPart { Text = "How many objects are in the depth map?" });
        request.Messages.Add(message);

        // The array's own problems name its bytes; a modality the model lacks names the part.
        var param = code == "invalid_tensor" ? "messages[0].content[0].tensor.npy" : "messages[0].content[0].tensor";
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, code, param);
    }
}

/// <summary>tiny-cogvlm, tiny-imagebind and mmserve-tiny in one process, REST and gRPC.</summary>
public sealed class VisualExpertTensorGrpcServer() : GrpcServer(new MmServeFactory(new Dictionary<string, string?>
{
    ["Model:Path"] = null,
    ["Models:0:Id"] = "tiny-cogvlm",
    ["Models:0:Path"] = FamilyBundles.Path("tiny-cogvlm"),
    ["Models:1:Id"] = "tiny-imagebind",
    ["Models:1:Path"] = FamilyBundles.Path("tiny-imagebind"),
    ["Models:2:Id"] = MmServe.TestSupport.Server.Chat.Model,
    ["Models:2:Path"] = TestPaths.Bundle,
    ["Limits:MaxImagesPerRequest"] = "4",
}));
