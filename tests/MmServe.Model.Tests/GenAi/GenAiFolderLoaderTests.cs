using System.Text.Json.Nodes;
using MmServe.Model.Bundle;
using MmServe.Model.GenAi;

namespace MmServe.Model.Tests.GenAi;

/// <summary>genai_config.json → the synthesized manifest: names, sizes, ids, search and session options, and refusals naming the field.</summary>
public sealed class GenAiFolderLoaderTests : IDisposable
{
    private static readonly string Source = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "genai-tiny");
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("mmserve-genai-loader-");

    public GenAiFolderLoaderTests()
    {
        foreach (var file in Directory.EnumerateFiles(Source))
        {
            File.Copy(file, Path.Combine(_folder.FullName, Path.GetFileName(file)));
        }
    }

    [Fact]
    public void Genai_tiny_becomes_an_input_ids_decoder_with_layer_placeholders()
    {
        Assert.True(GenAiFolderLoader.IsGenAiFolder(_folder.FullName));
        var (bundle, tokenizer) = GenAiFolderLoader.Load(_folder.FullName);
        var manifest = bundle.Manifest;
        var decoder = manifest.Decoder;

        Assert.Equal(GenAiFolderLoader.FormatOrtGenAi, manifest.Format);
        Assert.Null(manifest.Embedding);
        Assert.Equal("input_ids", decoder.InputIds);
        Assert.Equal("past_key_values.3.value", decoder.PastValueName(3));
        Assert.Equal("present.0.key", decoder.PresentKeyName(0));
        Assert.Equal((128, 4, 4, 2, 32, 692), (decoder.HiddenSize, decoder.NumLayers, decoder.NumAttentionHeads, decoder.NumKvHeads, decoder.HeadDim, decoder.VocabSize));
        Assert.False(decoder.SharesKvBuffer);
        Assert.Equal(256, manifest.MaxContext);
        Assert.Equal(["<|im_end|>", "<|endoftext|>"], manifest.Tokenizer.EosTokens);
        Assert.Equal("<|pad|>", manifest.Tokenizer.PadToken);
        Assert.Equal(Path.Combine(bundle.Directory, "model.onnx"), bundle.ComponentPath("decoder"));
        Assert.Equal(692, tokenizer.VocabSize);
        Assert.Equal("decoder", bundle.GenAi!.Type);
        Assert.NotNull(bundle.HuggingFace);
    }

    [Fact]
    public void Shared_buffer_search_max_length_and_session_options_are_read()
    {
        EditConfig(config =>
        {
            config["search"]!["past_present_share_buffer"] = true;
            config["search"]!["max_length"] = 128;
            config["search"]!["temperature"] = 0.7;
            config["model"]!["decoder"]!["session_options"] = JsonNode.Parse("""{"intra_op_num_threads": 3, "inter_op_num_threads": 2, "provider_options": [{"cuda": {"enable_cuda_graph": "1"}}]}""");
        });

        var (bundle, _) = GenAiFolderLoader.Load(_folder.FullName);

        Assert.Equal(DecoderSpec.KvBufferShared, bundle.Manifest.Decoder.KvBuffer);
        Assert.Equal(128, bundle.Manifest.MaxContext);
        Assert.Equal(0.7, bundle.GenAi!.Search.Temperature);
        Assert.Equal(3, bundle.GenAi.SessionOptions.IntraOpNumThreads);
        Assert.Equal(["cuda"], bundle.GenAi.SessionOptions.ProviderNames);
        Assert.Equal(
            ["model.decoder.session_options.inter_op_num_threads", "model.decoder.session_options.provider_options (cuda)"],
            bundle.GenAi.SettingsNotApplied());
    }

    [Fact]
    public void Search_do_sample_false_makes_greedy_the_default_whatever_its_temperature()
    {
        EditConfig(config => config["search"]!["temperature"] = 5.0); // unused when do_sample is false, as in ORT GenAI

        var (bundle, _) = GenAiFolderLoader.Load(_folder.FullName);

        Assert.False(bundle.GenAi!.Search.DoSample);
        Assert.Equal(new SamplingDefaults(0, null, null, null, "genai_config.json search"), bundle.SamplingDefaults);
    }

    [Fact]
    public void Search_sampling_fields_become_the_defaults_when_do_sample_is_true()
    {
        EditConfig(config =>
        {
            config["search"]!["do_sample"] = true;
            config["search"]!["temperature"] = 0.7;
            config["search"]!["top_p"] = 0.8;
            config["search"]!["top_k"] = 20;
        });

        var (bundle, _) = GenAiFolderLoader.Load(_folder.FullName);

        Assert.Equal(new SamplingDefaults(0.7, 0.8, 20, null, "genai_config.json search"), bundle.SamplingDefaults);
    }

    [Theory]
    [InlineData("""{"search": {"top_p": 1.5}}""", "genai_config.json: search.top_p must be in (0, 1]")]
    [InlineData("""{"search": {"do_sample": true, "temperature": 2.5}}""", "genai_config.json: search.temperature must be between 0 and 2")]
    [InlineData("""{"model": {"decoder": {"inputs": {"input_ids": null, "inputs_embeds": "inputs_embeds"}}}}""", "model.decoder.inputs.inputs_embeds is not supported")]
    [InlineData("""{"model": {"decoder": {"inputs": {"past_names": "past_key_values.%d"}}}}""", "model.decoder.inputs.past_names is not supported")]
    [InlineData("""{"model": {"decoder": {"head_size": "32"}}}""", "genai_config.json: model.decoder.head_size must be an integer")]
    [InlineData("""{"model": {"eos_token_id": []}}""", "genai_config.json: model.eos_token_id is required")]
    [InlineData("""{"model": {"context_length": null}}""", "genai_config.json: model.context_length is required")]
    public void Bad_values_are_refused_naming_the_field(string patch, string expected)
    {
        EditConfig(config => Merge(config.AsObject(), JsonNode.Parse(patch)!.AsObject()));

        var error = Assert.Throws<BundleValidationException>(() => GenAiFolderLoader.Load(_folder.FullName));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private void EditConfig(Action<JsonNode> edit)
    {
        var path = Path.Combine(_folder.FullName, GenAiConfig.FileName);
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        edit(config);
        File.WriteAllText(path, config.ToJsonString());
    }

    /// <summary>Deep merge; a null value removes the key.</summary>
    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject nested && target[key] is JsonObject existing)
            {
                Merge(existing, nested);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }
}
