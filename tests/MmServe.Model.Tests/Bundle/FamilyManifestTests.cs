using System.Text.Json.Nodes;
using MmServe.Model.Bundle;

namespace MmServe.Model.Tests.Bundle;

/// <summary>
/// The manifest fields of the Q-Former (instruction) and Fuyu (fuyu_patches, row_break_token) families: the
/// conformance bundles load, and each broken field fails the load naming it.
/// </summary>
public sealed class FamilyManifestTests : IDisposable
{
    private readonly List<string> _copies = [];

    public void Dispose()
    {
        foreach (var dir in _copies)
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TheBlip2Bundle_DeclaresItsInstruction()
    {
        var bundle = BundleLoader.Load(FamilyBundles.Path(FamilyBundles.Blip2));
        var image = bundle.Manifest.InputModalities["image"];
        Assert.Equal(ProjectorInstructionSpec.SourceMessageText, image.Instruction!.Source);
        Assert.Contains(bundle.Manifest.Components[image.Projector!].Inputs, i => i.Name == image.Instruction.IdsInput);
        BundleLoader.LoadTokenizer(bundle);
    }

    [Fact]
    public void TheFuyuBundle_IsEncoderFree_WithARowBreakToken()
    {
        var bundle = BundleLoader.Load(FamilyBundles.Path(FamilyBundles.Fuyu));
        var image = bundle.Manifest.InputModalities["image"];
        Assert.Null(image.Encoder);
        Assert.Equal(0, image.TokensPerItem);
        Assert.Equal(PreprocessingSpec.KindFuyuPatches, image.Preprocessing.Kind);
        Assert.NotNull(BundleLoader.LoadTokenizer(bundle).TokenToId(image.RowBreakToken!));
    }

    [Theory]
    [InlineData("source", "\"whole_prompt\"", "instruction.source 'whole_prompt' is not 'message_text'")]
    [InlineData("ids_input", "\"nope\"", "instruction.ids_input 'nope' is not an input of components.image_projector")]
    [InlineData("max_tokens", "0", "instruction.max_tokens must be > 0")]
    public void ABrokenInstructionField_FailsTheLoad(string field, string json, string expected)
    {
        var dir = Copy(FamilyBundles.Blip2, image => image["instruction"]![field] = JsonNode.Parse(json));
        var e = Assert.Throws<BundleValidationException>(() => BundleLoader.Load(dir));
        Assert.Contains("input_modalities.image." + expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownInstructionPadToken_FailsTheTokenCheck()
    {
        var dir = Copy(FamilyBundles.Blip2, image => image["instruction"]!["pad_token"] = "<|nope|>");
        var e = Assert.Throws<BundleValidationException>(() => BundleLoader.LoadTokenizer(BundleLoader.Load(dir)));
        Assert.Contains("input_modalities.image.instruction.pad_token", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tokens_per_item", "16", "tokens_per_item must be 0")]
    [InlineData("encoder", "\"patch_projector\"", "encoder must be absent")]
    [InlineData("row_break_token", "null", "row_break_token is required")]
    public void ABrokenFuyuModalityField_FailsTheLoad(string field, string json, string expected)
    {
        var dir = Copy(FamilyBundles.Fuyu, image => image[field] = JsonNode.Parse(json));
        var e = Assert.Throws<BundleValidationException>(() => BundleLoader.Load(dir));
        Assert.Contains("input_modalities.image." + expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("patch_size", "0", "patch_size must be > 0")]
    [InlineData("min_width", "200", "min_width and min_height must not exceed")]
    [InlineData("resize", "\"bilinear_antialias\"", "resize must be 'none'")]
    [InlineData("patch_layout", "\"channel,row,col\"", "patch_layout must be 'row,col,channel'")]
    [InlineData("std", "[0.25, 0, 0.25]", "std must not contain 0")]
    public void ABrokenPatchPreprocessingField_FailsTheLoad(string field, string json, string expected)
    {
        var dir = Copy(FamilyBundles.Fuyu, image => image["preprocessing"]![field] = JsonNode.Parse(json));
        var e = Assert.Throws<BundleValidationException>(() => BundleLoader.Load(dir));
        Assert.Contains("input_modalities.image.preprocessing." + expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARowBreakToken_OnAnotherPreprocessingKind_FailsTheLoad()
    {
        var dir = Copy(FamilyBundles.Blip2, image => image["row_break_token"] = "<|pad|>");
        var e = Assert.Throws<BundleValidationException>(() => BundleLoader.Load(dir));
        Assert.Contains("input_modalities.image.row_break_token applies only to preprocessing kind fuyu_patches", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The manifest and small files of a family bundle in a temp folder (ONNX files linked), image modality edited.</summary>
    private string Copy(string family, Action<JsonObject> editImage)
    {
        var source = FamilyBundles.Path(family);
        var dir = Path.Combine(Path.GetTempPath(), $"mmserve-{family}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        _copies.Add(dir);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            var target = Path.Combine(dir, Path.GetFileName(file));
            if (file.EndsWith(".onnx", StringComparison.Ordinal))
            {
                File.CreateSymbolicLink(target, file);
            }
            else
            {
                File.Copy(file, target);
            }
        }

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!;
        editImage(manifest["input_modalities"]!["image"]!.AsObject());
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
        return dir;
    }
}
