using System.Text.Json.Nodes;

namespace MmServe.TestSupport.Server;

/// <summary>
/// Golden cases of an architecture-family conformance bundle (models/families/&lt;id&gt;/golden/cases.json, written by
/// tools/reference-model/families in mmserve-tiny's format), media inlined: images as data: URLs, input_tensor parts'
/// .npy files as base64.
/// </summary>
public static class FamilyGolden
{
    public static string BundlePath(string model) => Path.Combine(TestPaths.RepoRoot, "models", "families", model);

    /// <summary>Every case of <paramref name="model"/>, its requests addressed to <paramref name="servedAs"/> (default: the model id).</summary>
    public static IReadOnlyList<GoldenCase> Load(string model, string? servedAs = null)
    {
        var golden = Path.Combine(BundlePath(model), "golden");
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(golden, "cases.json")))!;
        var cases = new List<GoldenCase>();
        foreach (var item in root["cases"]!.AsArray())
        {
            var messages = item!["messages"]!.AsArray();
            foreach (var part in messages.SelectMany(m => m!["content"] is JsonArray a ? a : []))
            {
                Inline(part!.AsObject(), golden);
            }

            cases.Add(new GoldenCase(
                item["id"]!.GetValue<string>(),
                messages,
                item["max_tokens"]!.GetValue<int>(),
                [.. item["prompt_token_ids"]!.AsArray().Select(x => x!.GetValue<int>())],
                [.. item["completion_token_ids"]!.AsArray().Select(x => x!.GetValue<int>())],
                item["completion_text"]!.GetValue<string>(),
                item["finish_reason"]!.GetValue<string>())
            {
                Model = servedAs ?? model,
            });
        }

        return cases;
    }

    private static void Inline(JsonObject part, string golden)
    {
        byte[] Read(string relative) => File.ReadAllBytes(Path.Combine(golden, relative));
        switch (part["type"]!.GetValue<string>())
        {
            case "image_url":
                var image = part["image_url"]!;
                image["url"] = TestImages.DataUrl(Read(image["url"]!.GetValue<string>()));
                break;
            case "input_tensor":
                var tensor = part["input_tensor"]!;
                tensor["data"] = Convert.ToBase64String(Read(tensor["data"]!.GetValue<string>()));
                break;
        }
    }
}
