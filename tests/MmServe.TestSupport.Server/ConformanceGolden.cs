using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MmServe.TestSupport.Server;

/// <summary>
/// A golden file of tests/conformance/goldens: what transformers.js (the reference runtime for Hugging Face ONNX
/// exports) generated greedily for each case of one conformance model (models/conformance/&lt;model&gt;).
/// </summary>
public sealed partial record ConformanceGolden(string Model, int MaxNewTokens, IReadOnlyList<ConformanceCase> Cases)
{
    public static string Root { get; } = Path.Combine(TestPaths.RepoRoot, "tests", "conformance");

    /// <param name="golden">A model name, or "model.dtype" for the goldens of one ONNX variant (e.g. "tiny-llama3.q8").</param>
    public static string GoldenPath(string golden) => Path.Combine(Root, "goldens", $"{golden}.json");

    public static string ModelPath(string golden) => Path.Combine(TestPaths.RepoRoot, "models", "conformance", golden.Split('.')[0]);

    /// <summary>The Model:Dtype a golden was made with ("fp32" unless its name says otherwise).</summary>
    public static string Dtype(string golden) => golden.Split('.') is [_, var dtype] ? dtype : "fp32";

    /// <summary>The golden files' names (models, and model.dtype variants).</summary>
    public static IReadOnlyList<string> Models() =>
        Directory.Exists(Path.Combine(Root, "goldens"))
            ? [.. Directory.GetFiles(Path.Combine(Root, "goldens"), "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!]
            : [];

    public static ConformanceGolden Load(string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(GoldenPath(model)));
        var root = doc.RootElement;
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => new ConformanceCase(
            c.GetProperty("id").GetString()!,
            JsonNode.Parse(c.GetProperty("messages").GetRawText())!.AsArray(),
            c.TryGetProperty("images", out var images) ? [.. images.EnumerateArray().Select(i => i.GetString()!)] : [],
            [.. c.GetProperty("prompt_ids").EnumerateArray().Select(i => i.GetInt32())],
            [.. c.GetProperty("output_ids").EnumerateArray().Select(i => i.GetInt32())],
            c.TryGetProperty("special_lookalike", out var lookalike) && lookalike.GetBoolean())
        {
            Media = c.TryGetProperty("media", out var media)
                ? [.. media.EnumerateArray().Select(m => new ConformanceMedia(
                    m.GetProperty("type").GetString()!,
                    m.TryGetProperty("path", out var path) ? path.GetString()! : m.GetProperty("file").GetString()!))]
                : [],
        }).ToList();
        return new ConformanceGolden(root.GetProperty("model").GetString()!, root.GetProperty("max_new_tokens").GetInt32(), cases);
    }

    /// <summary>
    /// The case as an OpenAI chat request: part-list content becomes text and image_url parts; Phi-3-V's
    /// "&lt;|image_N|&gt;\n" tags (which the server writes itself from image parts) become image_url parts.
    /// </summary>
    public JsonObject Request(ConformanceCase c, string modelId)
    {
        int nextImage = 0;
        int nextMedia = 0;
        var messages = new JsonArray();
        foreach (var message in c.Messages)
        {
            var content = message!["content"]!;
            JsonNode openAiContent;
            if (content is JsonArray parts)
            {
                var converted = new JsonArray();
                foreach (var part in parts)
                {
                    var type = part!["type"]!.GetValue<string>();
                    converted.Add(type switch
                    {
                        "text" => new JsonObject { ["type"] = "text", ["text"] = part["text"]!.GetValue<string>() },
                        _ when c.Media.Count > 0 => MediaPart(c.Media[nextMedia++]),
                        _ => ImagePart(c.Images[nextImage++]),
                    });
                }

                openAiContent = converted;
            }
            else
            {
                var text = content.GetValue<string>();
                var tags = LeadingImageTags().Match(text);
                if (tags.Success && tags.Length > 0)
                {
                    var converted = new JsonArray();
                    foreach (Capture _ in tags.Groups["tag"].Captures)
                    {
                        converted.Add(ImagePart(c.Images[nextImage++]));
                    }

                    converted.Add(new JsonObject { ["type"] = "text", ["text"] = text[tags.Length..] });
                    openAiContent = converted;
                }
                else
                {
                    openAiContent = text;
                }
            }

            messages.Add(new JsonObject { ["role"] = message["role"]!.GetValue<string>(), ["content"] = openAiContent });
        }

        return new JsonObject
        {
            ["model"] = modelId,
            ["messages"] = messages,
            ["temperature"] = 0,
            ["max_tokens"] = MaxNewTokens,
            ["return_token_ids"] = true,
        };
    }

    private static JsonObject ImagePart(string relativePath) => new()
    {
        ["type"] = "image_url",
        ["image_url"] = new JsonObject { ["url"] = "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(Path.Combine(Root, relativePath))) },
    };

    /// <summary>
    /// Goldens that list media in prompt order (Qwen2-VL, Ultravox): images as image_url (PNG), videos as video_url (their
    /// GIF file), audio as input_audio (the clip's bytes, its extension as the format).
    /// </summary>
    private static JsonObject MediaPart(ConformanceMedia media) => media.Type switch
    {
        "video" => new()
        {
            ["type"] = "video_url",
            ["video_url"] = new JsonObject { ["url"] = "data:image/gif;base64," + Convert.ToBase64String(File.ReadAllBytes(Path.Combine(Root, media.Path))) },
        },
        "audio" => new()
        {
            ["type"] = "input_audio",
            ["input_audio"] = new JsonObject
            {
                ["data"] = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(Root, media.Path))),
                ["format"] = Path.GetExtension(media.Path).TrimStart('.'),
            },
        },
        _ => ImagePart(media.Path),
    };

    [GeneratedRegex(@"^(?<tag><\|image_\d+\|>\n)*")]
    private static partial Regex LeadingImageTags();
}

/// <param name="PromptIds">As fed to the model (Phi-3-V: image positions as negative ids).</param>
/// <param name="OutputIds">New tokens, with the final EOS when generation stopped on one.</param>
/// <param name="SpecialLookalike">User text that spells a special token: HF matches it, this server on purpose does not.</param>
public sealed record ConformanceCase(
    string Id, JsonArray Messages, IReadOnlyList<string> Images, IReadOnlyList<int> PromptIds, IReadOnlyList<int> OutputIds, bool SpecialLookalike)
{
    /// <summary>Images and videos in prompt order, for goldens that list them as "media" (Qwen2-VL); empty otherwise.</summary>
    public IReadOnlyList<ConformanceMedia> Media { get; init; } = [];
}

/// <param name="Type">"image", "video" or "audio".</param>
/// <param name="Path">Relative to tests/conformance/: the image, the video's GIF file, or the audio clip.</param>
public sealed record ConformanceMedia(string Type, string Path);
