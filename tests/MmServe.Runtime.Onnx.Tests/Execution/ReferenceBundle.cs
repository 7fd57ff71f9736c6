using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>The bundled reference model, loaded once per test class that needs it.</summary>
public sealed class ReferenceBundle : IDisposable
{
    public ReferenceBundle()
    {
        Bundle = BundleLoader.Load(TestPaths.Bundle);
        Sessions = new SessionFactory(new DeviceOptions("cpu", IntraOpThreads: 1), NullLogger.Instance);
        Embed = Sessions.Create(Bundle.ComponentPath(Bundle.Manifest.Embedding!.Component));
        Decoder = Sessions.Create(Bundle.ComponentPath(Bundle.Manifest.Decoder.Component));
        GqaBundle = BundleLoader.Load(TestPaths.Bundle, "gqa");
        GqaDecoder = Sessions.Create(GqaBundle.ComponentPath(GqaBundle.Manifest.Decoder.Component));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Golden, "cases.json")));
        Cases = [.. doc.RootElement.GetProperty("cases").EnumerateArray().Select(GoldenCase.From)];
    }

    public ModelBundle Bundle { get; }

    public SessionFactory Sessions { get; }

    public InferenceSession Embed { get; }

    public InferenceSession Decoder { get; }

    /// <summary>The bundle with its decoder variant "gqa" (GroupQueryAttention, one shared KV buffer).</summary>
    public ModelBundle GqaBundle { get; }

    public InferenceSession GqaDecoder { get; }

    public IReadOnlyList<GoldenCase> Cases { get; }

    /// <summary>The ids of the manifest's EOS tokens.</summary>
    public IReadOnlySet<int> EosIds
    {
        get
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Bundle.TokenizerPath));
            var eos = Bundle.Manifest.Tokenizer.EosTokens.ToHashSet();
            return doc.RootElement.GetProperty("added_tokens").EnumerateArray()
                .Where(t => eos.Contains(t.GetProperty("content").GetString()!))
                .Select(t => t.GetProperty("id").GetInt32())
                .ToHashSet();
        }
    }

    public OnnxModelExecutor NewExecutor(int maxBatch = 32) => new(Bundle, Embed, Decoder, maxBatch, ownsSessions: false);

    /// <summary>An executor of the "gqa" decoder: a KV slot per sequence in one shared buffer.</summary>
    public OnnxModelExecutor NewSharedKvExecutor(int maxBatch = 32) => new(GqaBundle, Embed, GqaDecoder, maxBatch, ownsSessions: false);

    /// <summary>The executor of the decoder form named by a test case: "concat" or "shared".</summary>
    public OnnxModelExecutor NewExecutor(string form, int maxBatch = 32) => form == "shared" ? NewSharedKvExecutor(maxBatch) : NewExecutor(maxBatch);

    /// <summary>An executor on the device path (IOBinding, KV in unowned native buffers) over CPU memory.</summary>
    public OnnxModelExecutor NewDevicePathExecutor(int maxBatch = 32) =>
        new(Bundle, Embed, Decoder, maxBatch, ownsSessions: false, deviceMemory: () => new Device.HostMemory());

    public void Dispose()
    {
        Embed.Dispose();
        Decoder.Dispose();
        GqaDecoder.Dispose();
    }
}

public sealed record GoldenCase(string Id, string Task, bool HasMedia, int[] PromptIds, int[] CompletionIds)
{
    public static GoldenCase From(JsonElement e)
    {
        bool media = e.GetProperty("messages").EnumerateArray()
            .Any(m => m.GetProperty("content").EnumerateArray().Any(p => p.GetProperty("type").GetString() != "text"));
        return new GoldenCase(
            e.GetProperty("id").GetString()!,
            e.GetProperty("task").GetString()!,
            media,
            [.. e.GetProperty("prompt_token_ids").EnumerateArray().Select(x => x.GetInt32())],
            [.. e.GetProperty("completion_token_ids").EnumerateArray().Select(x => x.GetInt32())]);
    }
}
