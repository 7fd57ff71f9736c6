using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.Model.Bundle;
using MmServe.Model.Chat;
using MmServe.Model.HuggingFace;

namespace MmServe.Model.Tests.HuggingFace;

/// <summary>
/// tiny-ultravox's prompts from its own folder (Llama 3.1's template over string content, each audio part written as
/// &lt;|audio|&gt;, each placeholder expanded to its clip's token count) equal transformers.js's prompt_text and
/// prompt_ids for every golden; its config loads with the processor's token-count rule, and inconsistent configs
/// fail at load naming the field.
/// </summary>
public sealed class UltravoxPromptTests
{
    private static readonly string ModelFolder = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-ultravox");
    private static readonly string Golden = Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "goldens", "tiny-ultravox.json");

    private static readonly Lazy<(JinjaPromptBuilder Builder, ModelBundle Bundle)> Loaded = new(() =>
    {
        var (bundle, tokenizer) = HfFolderLoader.Load(ModelFolder);
        var builder = new JinjaPromptBuilder(
            bundle.HuggingFace!, tokenizer, tokenizer.PostProcessor, null, 0, audioToken: bundle.HuggingFace!.Ultravox!.Placeholder);
        return (builder, bundle);
    });

    public static TheoryData<string> CaseIds => [.. Cases().Select(c => c.GetProperty("id").GetString()!)];

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Prompt_text_and_ids_equal_transformers_js(string id)
    {
        GoldenConversation.AssertPromptEqualsGolden(Loaded.Value.Builder, Cases().Single(c => c.GetProperty("id").GetString() == id));
    }

    [Fact]
    public void A_placeholder_typed_by_the_client_stays_text_and_each_clip_gets_its_own_run()
    {
        var builder = Loaded.Value.Builder;
        List<ChatTurn> conversation =
        [
            new("user", [new ChatPart.Media("audio", 0), new ChatPart.Text("Is <|audio|> a token?"), new ChatPart.Media("audio", 1)]),
        ];

        var prompt = builder.Build(conversation, mediaLengths: [3, 5]);

        Assert.Equal(8, prompt.Ids.Count(id => id == 1769));
        Assert.Equal([(3, 0), (5, 1)], prompt.MediaSpans.Select(s => (s.Length, s.ItemIndex)));
        Assert.Throws<ArgumentException>(() => builder.Build(conversation));
    }

    [Fact]
    public void Token_counts_follow_the_processor_rule_for_every_golden_clip()
    {
        var ultravox = Loaded.Value.Bundle.HuggingFace!.Ultravox!;
        foreach (var m in Cases().SelectMany(c => c.GetProperty("media").EnumerateArray()))
        {
            Assert.Equal(m.GetProperty("tokens").GetInt32(), ultravox.AudioTokens(m.GetProperty("samples_16k").GetInt32()));
        }
    }

    [Fact]
    public void The_folder_loads_as_ultravox_with_an_audio_modality()
    {
        var bundle = Loaded.Value.Bundle;
        var ultravox = bundle.HuggingFace!.Ultravox!;
        Assert.Equal(("<|audio|>", 1769, 320, 8), (ultravox.Placeholder, ultravox.PlaceholderId, ultravox.EncoderDsFactor, ultravox.StackFactor));
        Assert.Equal(["audio"], bundle.Manifest.InputModalities.Keys);
        Assert.Equal(PreprocessingSpec.KindHfUltravoxAudio, bundle.Manifest.InputModalities["audio"].Preprocessing.Kind);
        Assert.Equal(64, bundle.Manifest.Decoder.HiddenSize);
        Assert.Equal(["audio", "decoder", "embed"], bundle.Manifest.Components.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("config.json", "audio_token_index", 1768, "audio_token_index is 1768, but audio_placeholder '<|audio|>' is id 1769")]
    [InlineData("config.json", "ignore_index", -100, "ignore_index is -100")]
    [InlineData("processor_config.json", "audio_placeholder", "<|nope|>", "audio_placeholder '<|nope|>' is not a token")]
    [InlineData("processor_config.json", "stack_factor", 0, "stack_factor must be > 0")]
    public void Inconsistent_configs_fail_at_load_naming_the_field(string file, string field, object value, string message)
    {
        var folder = Directory.CreateTempSubdirectory("mmserve-ultravox-").FullName;
        try
        {
            foreach (var path in Directory.GetFiles(ModelFolder, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(folder, Path.GetRelativePath(ModelFolder, path));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(path, target);
            }

            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, file)))!.AsObject();
            json[field] = value is int n ? JsonValue.Create(n) : JsonValue.Create((string)value);
            File.WriteAllText(Path.Combine(folder, file), json.ToJsonString());

            var error = Assert.Throws<BundleValidationException>(() => HfFolderLoader.Load(folder));
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
            Assert.Contains(file, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static IEnumerable<JsonElement> Cases() =>
        JsonDocument.Parse(File.ReadAllBytes(Golden)).RootElement.GetProperty("cases").EnumerateArray();
}
