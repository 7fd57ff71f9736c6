using System.Text.Json.Nodes;
using MmServe.Model.Bundle;
using MmServe.Model.HuggingFace.Florence2;

namespace MmServe.Model.Tests.HuggingFace.Florence2;

/// <summary>The tiny-florence2 conformance folder's configs and task prompts, read as transformers.js uses them.</summary>
public sealed class Florence2ConfigTests : IDisposable
{
    private static readonly string Folder = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-florence2");
    private readonly string _copy = Path.Combine(Path.GetTempPath(), "mmserve-florence2-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_copy))
        {
            Directory.Delete(_copy, recursive: true);
        }
    }

    [Fact]
    public void TinyFlorence2_GivesItsDecoderShapeAndDecodingRules()
    {
        var config = Florence2Config.Load(Folder);

        Assert.Equal((64, 2, 4, 16, 1761, 128), (config.DModel, config.DecoderLayers, config.DecoderHeads, config.HeadDim, config.VocabSize, config.MaxPositions));
        Assert.Equal(new Florence2GenerationConfig(DecoderStartTokenId: 2, EosTokenId: 2, ForcedBosTokenId: 0), config.Generation);
    }

    [Theory]
    [InlineData("<CAPTION>", "What does the image describe?")]
    [InlineData("<DETAILED_CAPTION>", "Describe in detail what is shown in the image.")]
    [InlineData("<OCR>", "What is the text in the image?")]
    [InlineData("<OPEN_VOCABULARY_DETECTION>a red circle", "Locate a red circle in the image.")]
    [InlineData("<CAPTION_TO_PHRASE_GROUNDING>A red circle.", "Locate the phrases in the caption: A red circle.")]
    [InlineData("What colour is the shape?", "What colour is the shape?")]
    [InlineData("<CAPTION> please", "<CAPTION> please")]
    public void TaskTexts_BecomeFlorence2ProcessorPrompts(string text, string prompt)
    {
        Assert.Equal(prompt, Florence2Config.Load(Folder).Prompts.Construct(text));
    }

    [Fact]
    public void AnotherModelType_IsRefusedNamingTheField()
    {
        var config = Copy();
        config["model_type"] = "bart";
        Write(config);

        var error = Assert.Throws<BundleValidationException>(() => Florence2Config.Load(_copy));
        Assert.Contains("model_type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AForcedBosOutsideTheVocabulary_IsRefusedNamingTheField()
    {
        Copy();
        var generation = JsonNode.Parse(File.ReadAllText(Path.Combine(_copy, "generation_config.json")))!;
        generation["forced_bos_token_id"] = 99999;
        File.WriteAllText(Path.Combine(_copy, "generation_config.json"), generation.ToJsonString());

        var error = Assert.Throws<BundleValidationException>(() => Florence2Config.Load(_copy));
        Assert.Contains("forced_bos_token_id", error.Message, StringComparison.Ordinal);
    }

    private JsonNode Copy()
    {
        Directory.CreateDirectory(_copy);
        foreach (var file in new[] { "config.json", "generation_config.json", "preprocessor_config.json" })
        {
            File.Copy(Path.Combine(Folder, file), Path.Combine(_copy, file));
        }

        return JsonNode.Parse(File.ReadAllText(Path.Combine(_copy, "config.json")))!;
    }

    private void Write(JsonNode config) => File.WriteAllText(Path.Combine(_copy, "config.json"), config.ToJsonString());
}
