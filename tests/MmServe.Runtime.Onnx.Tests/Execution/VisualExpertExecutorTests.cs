using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// A visual-expert decoder (tiny-cogvlm: token_type_ids) runs on the concat host path, where the token types change the
/// logits of image positions; served as a shared-KV-buffer variant it is refused when the executor is created, with a
/// message that says why, instead of running without its token types.
/// </summary>
public sealed class VisualExpertExecutorTests : IDisposable
{
    private static readonly string CogVlm = Path.Combine(TestPaths.RepoRoot, "models", "families", "tiny-cogvlm");
    private readonly SessionFactory _sessions = new(new DeviceOptions("cpu", IntraOpThreads: 1), NullLogger.Instance);
    private readonly string _copy = Path.Combine(Path.GetTempPath(), "mmserve-cogvlm-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void TokenTypes_ChangeThePrefillLogits_OnTheConcatPath()
    {
        var bundle = BundleLoader.Load(CogVlm);
        using var embed = _sessions.Create(bundle.ComponentPath(bundle.Manifest.Embedding!.Component));
        using var decoder = _sessions.Create(bundle.ComponentPath(bundle.Manifest.Decoder.Component));
        using var executor = new OnnxModelExecutor(bundle, embed, decoder, 2, ownsSessions: false);
        int[] prompt = [1, 2, 3, 4, 5, 6];
        var asText = new SequenceInput(1, prompt, 0, []);
        var asImage = new SequenceInput(2, prompt, 0, []) { TokenTypes = new SequenceTokenTypes([0, 1, 1, 1, 1, 0], textType: 0) };
        var output = new ForwardOutput();
        SequenceInput[] batch = [asText, asImage];
        output.Prepare(batch, bundle.Manifest.Decoder.VocabSize, bundle.Manifest.Decoder.HiddenSize);

        executor.Forward(batch, output, CancellationToken.None);

        Assert.False(output.GetLogits(0).SequenceEqual(output.GetLogits(1)));
    }

    [Fact]
    public void AsASharedKvVariant_IsRefusedAtLoad()
    {
        foreach (var file in Directory.EnumerateFiles(CogVlm))
        {
            Directory.CreateDirectory(_copy);
            File.Copy(file, Path.Combine(_copy, Path.GetFileName(file)));
        }

        var manifestPath = Path.Combine(_copy, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["decoder_variants"] = new JsonObject { ["shared"] = new JsonObject { ["component"] = "decoder", ["kv_buffer"] = "shared" } };
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        var bundle = BundleLoader.Load(_copy, "shared");
        using var embed = _sessions.Create(bundle.ComponentPath(bundle.Manifest.Embedding!.Component));
        using var decoder = _sessions.Create(bundle.ComponentPath(bundle.Manifest.Decoder.Component));

        var e = Assert.Throws<NotSupportedException>(() => new OnnxModelExecutor(bundle, embed, decoder, 2, ownsSessions: false));
        Assert.Contains("token types", e.Message, StringComparison.Ordinal);
        Assert.Contains("shared KV buffer", e.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_copy))
        {
            Directory.Delete(_copy, recursive: true);
        }
    }
}
