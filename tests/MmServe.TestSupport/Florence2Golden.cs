using System.Text.Json;

namespace MmServe.TestSupport;

/// <summary>One case of tests/conformance/goldens/florence2/tiny-florence2.json (transformers.js's answers).</summary>
public sealed record Florence2GoldenCase(string Id, string Image, string Text, string Prompt, int[] PromptIds, int[] OutputIds, string OutputText)
{
    /// <summary>The image file's bytes.</summary>
    public byte[] ReadImage() => File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "conformance", Image));
}

/// <summary>The tiny-florence2 golden cases and their generation limit.</summary>
public static class Florence2Golden
{
    public const string Model = "tiny-florence2";

    /// <summary>The goldens' max_new_tokens.</summary>
    public const int MaxNewTokens = 32;

    public static string ModelFolder { get; } = Path.Combine(TestPaths.RepoRoot, "models", "conformance", Model);

    public static IReadOnlyList<Florence2GoldenCase> Cases()
    {
        string golden = Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "goldens", "florence2", $"{Model}.json");
        using var document = JsonDocument.Parse(File.ReadAllText(golden));
        return [.. document.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Florence2GoldenCase(
            c.GetProperty("id").GetString()!,
            c.GetProperty("image").GetString()!,
            c.GetProperty("text").GetString()!,
            c.GetProperty("prompt").GetString()!,
            Ints(c.GetProperty("prompt_ids")),
            Ints(c.GetProperty("output_ids")),
            c.GetProperty("output_text").GetString()!))];
    }

    private static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];
}
