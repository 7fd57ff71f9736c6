using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.Tests.Shared;

namespace MmServe.FunctionalTests.Infrastructure;

/// <summary>A golden case of the bundle (golden/cases.json) with its media inlined as data: URLs.</summary>
public sealed record GoldenCase(
    string Id,
    JsonArray Messages,
    int MaxTokens,
    int[] PromptTokenIds,
    int[] CompletionTokenIds,
    string CompletionText,
    string FinishReason)
{
    public override string ToString() => Id;

    /// <summary>The request that must reproduce the case: greedy, with the token-id extension.</summary>
    public JsonObject ToRequest() => new()
    {
        ["model"] = Chat.Model,
        ["messages"] = Messages.DeepClone(),
        ["max_tokens"] = MaxTokens,
        ["temperature"] = 0,
        ["return_token_ids"] = true,
    };
}

public static class GoldenCases
{
    private static readonly string[] ServedPartTypes = ["text", "image_url"];

    /// <summary>Every case whose parts are only text and image_url (what this server serves so far).</summary>
    public static IReadOnlyList<GoldenCase> TextAndImage { get; } = Load();

    public static GoldenCase Get(string id) => TextAndImage.Single(c => c.Id == id);

    /// <summary>The first image captioning case: one image and a question (case ids change when the model is retrained).</summary>
    public static GoldenCase ImageCaption { get; } = TextAndImage.First(c => c.Id.StartsWith("image_caption_", StringComparison.Ordinal));

    private static List<GoldenCase> Load()
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.Golden, "cases.json")))!;
        var cases = new List<GoldenCase>();
        foreach (var item in root["cases"]!.AsArray())
        {
            var messages = item!["messages"]!.AsArray();
            var parts = messages.SelectMany(m => m!["content"] is JsonArray a ? a : []).ToList();
            if (parts.Any(p => !ServedPartTypes.Contains(p!["type"]!.GetValue<string>())))
            {
                continue;
            }

            foreach (var part in parts.Where(p => p!["type"]!.GetValue<string>() == "image_url"))
            {
                var image = part!["image_url"]!;
                var path = Path.Combine(TestPaths.Golden, image["url"]!.GetValue<string>());
                image["url"] = TestImages.DataUrl(File.ReadAllBytes(path));
            }

            cases.Add(new GoldenCase(
                item["id"]!.GetValue<string>(),
                messages,
                item["max_tokens"]!.GetValue<int>(),
                [.. item["prompt_token_ids"]!.AsArray().Select(x => x!.GetValue<int>())],
                [.. item["completion_token_ids"]!.AsArray().Select(x => x!.GetValue<int>())],
                item["completion_text"]!.GetValue<string>(),
                item["finish_reason"]!.GetValue<string>()));
        }

        return cases;
    }
}
