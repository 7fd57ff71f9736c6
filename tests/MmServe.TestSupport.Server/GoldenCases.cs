using System.Text.Json;
using System.Text.Json.Nodes;

namespace MmServe.TestSupport.Server;

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
    /// <summary>The reference's generated media for generation cases, else null.</summary>
    public GoldenMedia? Generated { get; init; }

    /// <summary>The model id the case's request names (mmserve-tiny's cases: <see cref="Chat.Model"/>).</summary>
    public string Model { get; init; } = Chat.Model;

    public override string ToString() => Id;

    /// <summary>The request that must reproduce the case: greedy, with the token-id extension.</summary>
    public JsonObject ToRequest() => new()
    {
        ["model"] = Model,
        ["messages"] = Messages.DeepClone(),
        ["max_tokens"] = MaxTokens,
        ["temperature"] = 0,
        ["return_token_ids"] = true,
    };
}

/// <summary>A generation case's reference output: "image" ([3, H, W] in [0, 1]) or "audio" (samples in [-1, 1]).</summary>
public sealed record GoldenMedia(string Modality, string NpyPath)
{
    public float[] Values() => Npy.Read(NpyPath).AsFloat32();
}

public static class GoldenCases
{
    /// <summary>Every golden case, media inlined (images and videos as data: URLs, audio as input_audio base64).</summary>
    public static IReadOnlyList<GoldenCase> All { get; } = Read(TestPaths.Golden);

    /// <summary>Cases with text, images and audio only: served with or without ffmpeg.</summary>
    public static IReadOnlyList<GoldenCase> WithoutVideo { get; } = [.. All.Where(c => !c.HasPart("video_url"))];

    /// <summary>Cases with a video (need ffmpeg).</summary>
    public static IReadOnlyList<GoldenCase> Video { get; } = [.. All.Where(c => c.HasPart("video_url"))];

    /// <summary>Cases with only text and images.</summary>
    public static IReadOnlyList<GoldenCase> TextAndImage { get; } = [.. WithoutVideo.Where(c => !c.HasPart("input_audio"))];

    /// <summary>Cases whose answer ends in signal tokens, with the reference's generated image or audio.</summary>
    public static IReadOnlyList<GoldenCase> Generation { get; } = [.. All.Where(c => c.Generated is not null)];

    public static GoldenCase Get(string id) => All.Single(c => c.Id == id);

    /// <summary>The first image captioning case: one image and a question (case ids change when the model is retrained).</summary>
    public static GoldenCase ImageCaption { get; } = All.First(c => c.Id.StartsWith("image_caption_", StringComparison.Ordinal));

    private static bool HasPart(this GoldenCase golden, string type) =>
        golden.Messages.ToJsonString().Contains($"\"type\":\"{type}\"", StringComparison.Ordinal);

    /// <summary>The cases of a golden/ folder in the recipe's format (mmserve-tiny's, or a family bundle's), media inlined.</summary>
    /// <param name="goldenDirectory">The golden/ folder; media paths in the file are relative to it.</param>
    /// <param name="file">cases.json, or another case file of the same format.</param>
    public static List<GoldenCase> Read(string goldenDirectory, string file = "cases.json")
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(goldenDirectory, file)))!;
        var cases = new List<GoldenCase>();
        foreach (var item in root["cases"]!.AsArray())
        {
            var messages = item!["messages"]!.AsArray();
            foreach (var part in messages.SelectMany(m => m!["content"] is JsonArray a ? a : []))
            {
                InlineMedia(part!.AsObject(), goldenDirectory);
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
                Generated = item["generated"] is { } generated
                    ? new GoldenMedia(generated["modality"]!.GetValue<string>(), Path.Combine(goldenDirectory, generated["float32_npy"]!.GetValue<string>()))
                    : null,
            });
        }

        return cases;
    }

    /// <summary>cases.json names media files relative to golden/; requests carry the bytes (.npy tensors as base64).</summary>
    private static void InlineMedia(JsonObject part, string goldenDirectory)
    {
        byte[] Read(string relative) => File.ReadAllBytes(Path.Combine(goldenDirectory, relative));
        switch (part["type"]!.GetValue<string>())
        {
            case "image_url":
                var image = part["image_url"]!;
                image["url"] = TestImages.DataUrl(Read(image["url"]!.GetValue<string>()));
                break;
            case "input_audio":
                var audio = part["input_audio"]!;
                audio["data"] = Convert.ToBase64String(Read(audio["data"]!.GetValue<string>()));
                break;
            case "video_url":
                var video = part["video_url"]!;
                video["url"] = "data:video/mp4;base64," + Convert.ToBase64String(Read(video["url"]!.GetValue<string>()));
                break;
            case "input_tensor":
                var tensor = part["input_tensor"]!;
                tensor["data"] = Convert.ToBase64String(Read(tensor["data"]!.GetValue<string>()));
                break;
        }
    }
}
