using System.Text.Json.Nodes;

namespace MmServe.TestSupport.Server;

/// <summary>
/// The tool-calling conformance bundle models/mmserve-tiny-tools (tools/reference-model/make_tools_bundle.py) and its
/// held-out set golden/tools_heldout.json: requests with tools, the call each one asks for (or none), the scene the
/// tools run on, and the answer expected after a tool result.
/// </summary>
public static class ToolModel
{
    public const string Id = "mmserve-tiny-tools";

    public static string Bundle { get; } = Path.Combine(TestPaths.RepoRoot, "models", Id);

    public static string Golden => Path.Combine(Bundle, "golden");

    public static IReadOnlyList<ToolCase> HeldOut { get; } = Load("tools_heldout.json");

    /// <summary>Greedy golden cases (PyTorch's token ids, margin ≥ 1 at every step) as ToolCases with their ids.</summary>
    public static IReadOnlyList<ToolCase> GoldenCases { get; } = Load("cases.json");

    /// <summary>Held-out cases that ask for a call or for a plain answer (no tool result in the messages yet).</summary>
    public static IEnumerable<ToolCase> FirstTurns => HeldOut.Where(c => !c.Task.StartsWith("tool_answer_", StringComparison.Ordinal));

    private static List<ToolCase> Load(string file)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(Golden, file)))!;
        return [.. root["cases"]!.AsArray().Select(item => new ToolCase(item!.AsObject()))];
    }
}

/// <summary>One object of a held-out image, as the world generated it.</summary>
public sealed record SceneObject(string Color, string Shape, string Region, string Size);

public sealed class ToolCase(JsonObject item)
{
    public string Id { get; } = item["id"]!.GetValue<string>();

    public string Task { get; } = item["task"]!.GetValue<string>();

    /// <summary>OpenAI messages with the media inlined as data: URLs.</summary>
    public JsonArray Messages { get; } = Inline(item["messages"]!.AsArray());

    public JsonArray Tools { get; } = item["tools"]!.AsArray();

    /// <summary>The call the question asks for ({"name", "arguments"}), or null when none should be made.</summary>
    public JsonObject? ExpectedCall { get; } = item["expected_call"]?.AsObject();

    public IReadOnlyList<SceneObject>? Scene { get; } = item["scene"]?.AsArray().Select(o => new SceneObject(
        o!["color"]!.GetValue<string>(), o["shape"]!.GetValue<string>(), o["region"]!.GetValue<string>(), o["size"]!.GetValue<string>())).ToList();

    /// <summary>A plain answer, or the answer after the tool result; null for cases that must call.</summary>
    public string? ExpectedAnswer { get; } = item["expected_answer"]?.GetValue<string>();

    public int[] PromptTokenIds { get; } = Ints(item["prompt_token_ids"]);

    public int[] CompletionTokenIds { get; } = Ints(item["completion_token_ids"]);

    public int MaxTokens { get; } = item["max_tokens"]?.GetValue<int>() ?? 96;

    /// <summary>The image of the first user message, or null.</summary>
    public byte[]? Image { get; } = item["messages"]!.AsArray()
        .SelectMany(m => m!["content"] is JsonArray parts ? parts : [])
        .Select(p => p!["image_url"]?["url"]?.GetValue<string>()).Where(u => u is not null)
        .Select(u => File.ReadAllBytes(Path.Combine(ToolModel.Golden, u!))).FirstOrDefault();

    public JsonObject ToRequest(bool stream = false) => new()
    {
        ["model"] = ToolModel.Id,
        ["messages"] = Messages.DeepClone(),
        ["tools"] = Tools.DeepClone(),
        ["temperature"] = 0,
        ["max_tokens"] = MaxTokens,
        ["stream"] = stream,
    };

    public override string ToString() => Id;

    private static int[] Ints(JsonNode? array) => array is null ? [] : [.. array.AsArray().Select(x => x!.GetValue<int>())];

    private static JsonArray Inline(JsonArray messages)
    {
        var copy = messages.DeepClone().AsArray();
        foreach (var part in copy.SelectMany(m => m!["content"] is JsonArray parts ? parts : []))
        {
            if (part!["image_url"] is { } image)
            {
                image["url"] = TestImages.DataUrl(File.ReadAllBytes(Path.Combine(ToolModel.Golden, image["url"]!.GetValue<string>())));
            }
        }

        return copy;
    }
}

/// <summary>
/// The client's side of the cascade: the tools, run on a held-out image's scene as the recipe runs them
/// (tool_tasks.run_tool), and the answer a right model gives from their result (tool_tasks.final_answer).
/// </summary>
public static class WorldTools
{
    private static readonly string[] Numbers = ["zero", "one", "two", "three", "four"];

    public static JsonObject Run(string name, string argument, IReadOnlyList<SceneObject> scene) => name switch
    {
        "count_shapes" => new JsonObject { ["count"] = scene.Count(o => o.Color == argument) },
        "zoom" => new JsonObject
        {
            ["objects"] = scene.Where(o => o.Region == argument).Select(o => $"{o.Size} {o.Color} {o.Shape}").DefaultIfEmpty("nothing")
                .Aggregate((a, b) => $"{a} and {b}"),
        },
        "play_tone" => new JsonObject { ["played"] = argument },
        _ => throw new ArgumentException($"unknown tool {name}", nameof(name)),
    };

    public static string Answer(string name, string argument, JsonObject result)
    {
        switch (name)
        {
            case "count_shapes":
                int n = result["count"]!.GetValue<int>();
                return n switch
                {
                    0 => $"There are no {argument} shapes.",
                    1 => $"There is one {argument} shape.",
                    _ => $"There are {Numbers[n]} {argument} shapes.",
                };
            case "zoom":
                var objects = result["objects"]!.GetValue<string>();
                return objects == "nothing" ? "There is nothing there." : $"I see a {objects}.";
            default:
                return $"I played a {result["played"]!.GetValue<string>()} tone.";
        }
    }

    /// <summary>The one argument each tool takes.</summary>
    public static string Parameter(string name) => name switch { "count_shapes" => "color", "zoom" => "region", _ => "pitch" };
}
