using System.Text.Json;
using MmServe.Model.Bundle;
using MmServe.Model.Chat.Jinja;

namespace MmServe.Model.Tests.Chat;

/// <summary>
/// mmserve-tiny ships chat_template.jinja for Hugging Face tooling (transformers, transformers.js). Rendered as they
/// render it (trim_blocks, lstrip_blocks: our interpreter matches @huggingface/jinja), it must give exactly the
/// prompt the model was trained on: for every golden case, its text encoded with the bundle's tokenizer and each
/// media placeholder expanded to tokens_per_item copies equals the case's prompt ids from the reference recipe.
/// </summary>
public sealed class BundleJinjaTemplateTests
{
    private static readonly ModelBundle Bundle = BundleLoader.Load(TestPaths.Bundle);

    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var golden in Cases().EnumerateArray())
        {
            data.Add(golden.GetProperty("id").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void HfRendering_GivesTheRecipesPromptIds(string id)
    {
        var golden = Cases().EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);
        var template = JinjaTemplate.Parse(File.ReadAllText(Path.Combine(Bundle.Directory, Bundle.Manifest.ChatTemplate.File!)));
        var text = template.Render(new Dictionary<string, object?>
        {
            ["messages"] = golden.GetProperty("messages"),
            ["add_generation_prompt"] = true,
        });

        var tokenizer = BundleLoader.LoadTokenizer(Bundle);
        var ids = new List<int>();
        foreach (var token in tokenizer.Encode([MmServe.Model.Tokenization.TextSegment.Trusted(text)]))
        {
            var placeholder = Bundle.Manifest.InputModalities.Values.FirstOrDefault(m => tokenizer.TokenToId(m.PlaceholderToken) == token);
            ids.AddRange(Enumerable.Repeat(token, placeholder?.TokensPerItem ?? 1));
        }

        var expected = golden.GetProperty("prompt_token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.True(expected.SequenceEqual(ids), $"{id}: rendered {JsonSerializer.Serialize(text)}");
    }

    private static JsonElement Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Golden, "cases.json")));
        return doc.RootElement.GetProperty("cases").Clone();
    }
}
