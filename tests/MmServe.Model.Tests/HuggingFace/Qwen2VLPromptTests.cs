using System.Text.Json;
using MmServe.Model.Chat;
using MmServe.Model.HuggingFace;

namespace MmServe.Model.Tests.HuggingFace;

/// <summary>
/// tiny-qwen2-vl's prompts from its own folder (Qwen2-VL's chat template, content parts in order, images and videos
/// between &lt;|vision_start|&gt; and &lt;|vision_end|&gt;, each pad run as long as its grid says) equal transformers.js's
/// prompt_text and prompt_ids for all 22 goldens.
/// </summary>
public sealed class Qwen2VLPromptTests
{
    private static readonly string ModelFolder = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-qwen2-vl");

    private static readonly string Golden = new[]
    {
        Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "goldens", "tiny-qwen2-vl.json"),
        Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "pending", "goldens", "tiny-qwen2-vl.json"),
    }.First(File.Exists);

    private static readonly Lazy<(JinjaPromptBuilder Builder, Qwen2VLConfig Config, MmServe.Model.Bundle.ModelBundle Bundle)> Loaded = new(() =>
    {
        var (bundle, tokenizer) = HfFolderLoader.Load(ModelFolder);
        var qwen = bundle.HuggingFace!.Qwen2VL!;
        var builder = new JinjaPromptBuilder(
            bundle.HuggingFace!, tokenizer, tokenizer.PostProcessor, qwen.ImageToken, 0, videoToken: qwen.VideoToken);
        return (builder, qwen, bundle);
    });

    public static TheoryData<string> CaseIds
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var c in Cases())
            {
                data.Add(c.GetProperty("id").GetString()!);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Prompt_text_and_ids_equal_transformers_js(string id)
    {
        GoldenConversation.AssertPromptEqualsGolden(Loaded.Value.Builder, Cases().Single(c => c.GetProperty("id").GetString() == id));
    }

    [Fact]
    public void The_folder_loads_as_qwen2_vl_with_m_rope_and_both_vision_modalities()
    {
        var (_, qwen, bundle) = Loaded.Value;
        Assert.Equal(3, bundle.Manifest.Decoder.PositionAxes);
        Assert.Equal(("<|image_pad|>", 1768, "<|video_pad|>", 1769), (qwen.ImageToken, qwen.ImageTokenId, qwen.VideoToken, qwen.VideoTokenId));
        Assert.Equal((1765, 1766, 2), (qwen.VisionStartTokenId, qwen.VisionEndTokenId, qwen.SpatialMergeSize));
        Assert.Equal([2, 3, 3], qwen.MropeSection);
        Assert.Equal(["image", "video"], bundle.Manifest.InputModalities.Keys.Order(StringComparer.Ordinal));
        Assert.All(bundle.Manifest.InputModalities.Values, m => Assert.Equal(MmServe.Model.Bundle.PreprocessingSpec.KindHfQwen2VL, m.Preprocessing.Kind));
    }

    private static IEnumerable<JsonElement> Cases() =>
        JsonDocument.Parse(File.ReadAllBytes(Golden)).RootElement.GetProperty("cases").EnumerateArray();
}
