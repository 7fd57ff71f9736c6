using System.Text.Json.Nodes;
using MmServe.Model.Bundle;
using MmServe.Model.HuggingFace;

namespace MmServe.Model.Tests.HuggingFace;

/// <summary>generation_config.json → the export's sampling defaults: only fields it sets, do_sample false as greedy, bad values refused naming the field.</summary>
public sealed class HfGenerationDefaultsTests : IDisposable
{
    private static readonly string Source = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-qwen2");
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("mmserve-hf-generation-");

    public HfGenerationDefaultsTests()
    {
        foreach (var file in Directory.EnumerateFiles(Source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_folder.FullName, Path.GetRelativePath(Source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public void The_committed_conformance_exports_give_what_their_files_say()
    {
        // tiny-qwen2's file: do_sample true, temperature 0.7, top_k 20, top_p 0.8 (Qwen2.5-Instruct's values).
        Assert.Equal(new SamplingDefaults(0.7, 0.8, 20, null, "generation_config.json"), HfFolderLoader.Load(Source).Bundle.SamplingDefaults);
        // tiny-qwen2-vl's: do_sample false, nothing else.
        Assert.Equal(new SamplingDefaults(0, null, null, null, "generation_config.json"), Load("tiny-qwen2-vl"));
        // tiny-phi3's: ids only, so no defaults: requests get OpenAI's.
        Assert.True(Load("tiny-phi3").IsEmpty);
    }

    [Fact]
    public void Max_new_tokens_becomes_the_default_max_tokens()
    {
        Edit(g => g["max_new_tokens"] = 64);

        Assert.Equal(64, HfFolderLoader.Load(_folder.FullName).Bundle.SamplingDefaults.MaxNewTokens);
    }

    [Fact]
    public void No_generation_config_means_no_defaults()
    {
        File.Delete(Path.Combine(_folder.FullName, "generation_config.json"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder.FullName, "config.json")))!;
        Assert.NotNull(config["eos_token_id"]); // the EOS ids then come from config.json

        Assert.Same(SamplingDefaults.None, HfFolderLoader.Load(_folder.FullName).Bundle.SamplingDefaults);
    }

    [Theory]
    [InlineData("temperature", "3.0", "generation_config.json: temperature must be between 0 and 2")]
    [InlineData("top_p", "0", "generation_config.json: top_p must be in (0, 1]")]
    [InlineData("top_k", "-5", "generation_config.json: top_k must be >= 0")]
    [InlineData("max_new_tokens", "0", "generation_config.json: max_new_tokens must be > 0")]
    [InlineData("temperature", "\"hot\"", "generation_config.json: temperature must be a number")]
    [InlineData("do_sample", "1", "generation_config.json: do_sample must be true or false")]
    public void Values_no_request_could_use_are_refused_naming_the_field(string field, string json, string expected)
    {
        Edit(g => g[field] = JsonNode.Parse(json));

        var error = Assert.Throws<BundleValidationException>(() => HfFolderLoader.Load(_folder.FullName));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private static SamplingDefaults Load(string model) =>
        HfFolderLoader.Load(Path.Combine(TestPaths.RepoRoot, "models", "conformance", model)).Bundle.SamplingDefaults;

    private void Edit(Action<JsonObject> edit)
    {
        var path = Path.Combine(_folder.FullName, "generation_config.json");
        var generation = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(generation);
        File.WriteAllText(path, generation.ToJsonString());
    }
}
