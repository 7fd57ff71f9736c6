using System.Text.Json.Nodes;
using MmServe.Model.Bundle;

namespace MmServe.Model.Tests.Bundle;

/// <summary>
/// The "cross_attention" section (family gated_cross_attention) on a copy of tiny-flamingo's manifest: it loads with
/// its block names, and each broken field is named in the error.
/// </summary>
public sealed class CrossAttentionManifestTests : IDisposable
{
    private static readonly string Source = Path.Combine(TestPaths.RepoRoot, "models", "families", "tiny-flamingo");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mmserve-xattn-" + Guid.NewGuid().ToString("N"));

    public CrossAttentionManifestTests()
    {
        Directory.CreateDirectory(_dir);
        foreach (var file in Directory.GetFiles(Source).Where(f => !f.EndsWith(".onnx", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(_dir, Path.GetFileName(file)));
        }

        foreach (var onnx in Directory.GetFiles(Source, "*.onnx"))
        {
            File.WriteAllBytes(Path.Combine(_dir, Path.GetFileName(onnx)), []); // the loader only checks that they exist
        }
    }

    [Fact]
    public void TinyFlamingo_Loads_WithItsCrossAttentionSection()
    {
        var cross = BundleLoader.Load(_dir).Manifest.CrossAttention!;

        Assert.Equal("image", cross.Modality);
        Assert.Equal(16, cross.MediaTokensPerItem);
        Assert.Equal("cross_kv.1.value", cross.ValueName(1));
        Assert.Equal(CrossAttentionSpec.AttendMostRecentItem, cross.Attend);
    }

    [Theory]
    [InlineData("attend", "\"all_items\"", "cross_attention.attend")]
    [InlineData("key", "\"cross_kv.key\"", "cross_attention.key")]
    [InlineData("component", "\"no_such\"", "cross_attention.component")]
    [InlineData("media_mask", "\"no_mask\"", "cross_attention.media_mask")]
    [InlineData("max_items", "0", "cross_attention.max_items")]
    [InlineData("modality", "\"audio\"", "cross_attention.modality")]
    public void ABrokenField_IsNamed(string field, string json, string named)
    {
        var manifest = Manifest();
        manifest["cross_attention"]![field] = JsonNode.Parse(json);

        var e = Assert.Throws<BundleValidationException>(() => Load(manifest));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCrossAttendedModality_MustPutOneMarkerTokenPerItem()
    {
        var manifest = Manifest();
        manifest["input_modalities"]!["image"]!["tokens_per_item"] = 16;

        var e = Assert.Throws<BundleValidationException>(() => Load(manifest));

        Assert.Contains("input_modalities.image.tokens_per_item must be 1", e.Message, StringComparison.Ordinal);
    }

    private JsonObject Manifest() => JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "manifest.json")))!.AsObject();

    private void Load(JsonObject manifest)
    {
        File.WriteAllText(Path.Combine(_dir, "manifest.json"), manifest.ToJsonString());
        BundleLoader.Load(_dir);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is harmless.
        }
    }
}
