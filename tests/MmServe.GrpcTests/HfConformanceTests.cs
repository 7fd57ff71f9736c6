using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// A Hugging Face export over gRPC: the LLaVA-layout conformance model, images as raw bytes, streamed, gives
/// transformers.js' prompt ids and greedy tokens for its golden cases (the REST side checks every model).
/// </summary>
public sealed class HfConformanceTests() : GrpcServer(new MmServeFactory(new Dictionary<string, string?>
{
    ["Model:Path"] = ConformanceGolden.ModelPath("tiny-llava"),
    ["Limits:MaxImagesPerRequest"] = "4",
}))
{
    [Fact]
    public async Task Llava_export_streams_transformers_js_tokens()
    {
        var golden = ConformanceGolden.Load("tiny-llava");
        var cases = golden.Cases.Where(c => !c.SpecialLookalike).ToList();
        var chats = await Task.WhenAll(cases.Select(c =>
            StreamedChat.ReadAsync(Chat, GrpcGolden.FromOpenAi(golden.Request(c, "tiny-llava"), c.Id))));

        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var prompt = chats[i].Started.PromptTokenIds.ToArray();
            if (!prompt.SequenceEqual(cases[i].PromptIds) || !chats[i].TokenIds.SequenceEqual(cases[i].OutputIds))
            {
                failures.Add($"{cases[i].Id}: prompt [{string.Join(",", prompt)}] tokens [{string.Join(",", chats[i].TokenIds)}], expected tokens [{string.Join(",", cases[i].OutputIds)}]");
            }
        }

        Assert.True(cases.Count(c => c.Images.Count > 0) >= 10, "the golden should hold image cases");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
