using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.Model.Bundle;
using MmServe.Model.HuggingFace.Whisper;

namespace MmServe.Model.Tests.HuggingFace.Whisper;

/// <summary>The tiny-whisper conformance folder's configs, read as transformers.js uses them.</summary>
public sealed class WhisperConfigTests : IDisposable
{
    private static readonly string Folder = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-whisper");
    private readonly string _copy = Path.Combine(Path.GetTempPath(), "mmserve-whisper-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_copy))
        {
            Directory.Delete(_copy, recursive: true);
        }
    }

    [Fact]
    public void TinyWhisper_GivesItsDecoderShapeAndFeatureSettings()
    {
        var config = WhisperConfig.Load(Folder);

        Assert.Equal((64, 2, 4, 16, 3364, 448, 1500), (config.DModel, config.DecoderLayers, config.DecoderHeads, config.HeadDim, config.VocabSize, config.MaxTargetPositions, config.MaxSourcePositions));
        Assert.Equal(new WhisperFeatureConfig(80, 16000, 160, 400, 480000, 3000), config.Features);
        Assert.Equal((1757, 1756, 1862), (config.Generation.DecoderStartTokenId, config.Generation.EosTokenId, config.Generation.NoTimestampsTokenId));
        Assert.Equal([32, 1756], config.Generation.BeginSuppressTokens);
        Assert.Equal(29, config.Generation.SuppressTokens.Count);
        Assert.Equal(99, config.Generation.LanguageToId.Count);
    }

    [Fact]
    public void DecoderPromptIds_EqualTheGoldensForEveryCase()
    {
        var generation = WhisperConfig.Load(Folder).Generation;
        string golden = Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "goldens", "speech", "tiny-whisper.json");
        using var document = JsonDocument.Parse(File.ReadAllText(golden));

        int checkedCases = 0;
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var (ids, error) = generation.DecoderPromptIds(c.GetProperty("language").GetString(), c.GetProperty("task").GetString()!);
            Assert.Null(error);
            Assert.Equal(c.GetProperty("decoder_prompt_ids").EnumerateArray().Select(e => e.GetInt32()), ids!);
            checkedCases++;
        }

        Assert.Equal(28, checkedCases);
    }

    [Theory]
    [InlineData("xx", "transcribe", "Unsupported language 'xx'")]
    [InlineData("en", "summarize", "Unknown task 'summarize'")]
    public void DecoderPromptIds_RefuseWhatTheModelDoesNotKnow(string language, string task, string message)
    {
        var (ids, error) = WhisperConfig.Load(Folder).Generation.DecoderPromptIds(language, task);

        Assert.Null(ids);
        Assert.StartsWith(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void DecoderPromptIds_WithoutLanguage_UseEnglish()
    {
        Assert.Equal([1757, 1758, 1857, 1862], WhisperConfig.Load(Folder).Generation.DecoderPromptIds(null, "translate").Ids!);
    }

    [Theory]
    [InlineData("preprocessor_config.json", "feature_size", 128, "feature_size 128 differs from config.json num_mel_bins 80")]
    [InlineData("generation_config.json", "no_timestamps_token_id", 99999, "no_timestamps_token_id (99999) is outside the vocabulary of 3364")]
    [InlineData("config.json", "decoder_attention_heads", 5, "d_model (64) is not a multiple of decoder_attention_heads (5)")]
    public void ABrokenField_StopsTheLoadNamingFileAndField(string file, string field, int value, string message)
    {
        Directory.CreateDirectory(_copy);
        foreach (var name in new[] { "config.json", "generation_config.json", "preprocessor_config.json" })
        {
            File.Copy(Path.Combine(Folder, name), Path.Combine(_copy, name));
        }

        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(_copy, file)))!;
        node[field] = value;
        File.WriteAllText(Path.Combine(_copy, file), node.ToJsonString());

        var error = Assert.Throws<BundleValidationException>(() => WhisperConfig.Load(_copy));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }
}
