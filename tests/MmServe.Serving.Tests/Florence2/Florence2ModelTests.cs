using System.Text.Json;
using MmServe.Engine;
using MmServe.Serving.Florence2;

namespace MmServe.Serving.Tests.Florence2;

/// <summary>
/// tiny-florence2 end to end below HTTP: every golden case's image (96 x 96, and sizes that are resized) and task text
/// (&lt;CAPTION&gt;, &lt;DETAILED_CAPTION&gt;, &lt;OCR&gt;, free text) through the task prompt mapping, image processor,
/// vision encoder, text encoder and the engine's encoder-decoder path give transformers.js's prompt, greedy ids and
/// text, one at a time and all in flight at once.
/// </summary>
public sealed class Florence2ModelTests
{
    // The goldens' max_new_tokens.
    internal const int MaxNewTokens = 32;

    private static readonly string Folder = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-florence2");

    internal sealed record Case(string Id, string Image, string Text, string Prompt, int[] PromptIds, int[] OutputIds, string OutputText);

    internal static List<Case> Cases()
    {
        string golden = Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "goldens", "florence2", "tiny-florence2.json");
        using var document = JsonDocument.Parse(File.ReadAllText(golden));
        return [.. document.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("id").GetString()!,
            c.GetProperty("image").GetString()!,
            c.GetProperty("text").GetString()!,
            c.GetProperty("prompt").GetString()!,
            [.. c.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32())],
            [.. c.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32())],
            c.GetProperty("output_text").GetString()!))];
    }

    private static Florence2Model NewModel() => new(Folder, workers: 1, new EngineOptions { MaxBatchSize = 32 });

    private static Task<(Florence2Result? Result, Errors.ServingError? Error)> Run(Florence2Model model, Case c) =>
        model.GenerateAsync(File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "conformance", c.Image)), c.Text, 0, MaxNewTokens, c.Id, "image", CancellationToken.None);

    private static void AssertGolden(Case c, (Florence2Result? Result, Errors.ServingError? Error) outcome)
    {
        Assert.Null(outcome.Error);
        var result = outcome.Result!;
        Assert.Equal(c.Prompt, result.Prompt);
        Assert.True(c.PromptIds.SequenceEqual(result.PromptIds), $"{c.Id}: prompt ids [{string.Join(", ", result.PromptIds)}] != golden [{string.Join(", ", c.PromptIds)}]");
        Assert.True(c.OutputIds.SequenceEqual(result.TokenIds), $"{c.Id} ({c.Image}, {c.Text}): [{string.Join(", ", result.TokenIds)}] != golden [{string.Join(", ", c.OutputIds)}]");
        Assert.Equal(c.OutputText, result.Text);
    }

    [Fact]
    public async Task AllGoldenCases_OneAtATime_GiveTransformersJsIdsAndText()
    {
        using var model = NewModel();
        var cases = Cases();
        Assert.True(cases.Count >= 20, $"{cases.Count} golden cases");
        Assert.True(cases.Select(c => c.Text).Distinct().Count() >= 3);
        foreach (var c in cases)
        {
            AssertGolden(c, await Run(model, c));
        }
    }

    [Fact]
    public async Task AllGoldenCases_InFlightAtOnce_GiveTransformersJsIdsAndText()
    {
        using var model = NewModel();
        var cases = Cases();

        var outcomes = await Task.WhenAll(cases.Select(c => Task.Run(() => Run(model, c))));

        for (int i = 0; i < cases.Count; i++)
        {
            AssertGolden(cases[i], outcomes[i]);
        }

        Assert.Equal(cases.Count, model.Stats.ReleasedSlots);
    }

    [Fact]
    public async Task BytesThatAreNoImage_AreRefusedNamingTheField()
    {
        using var model = NewModel();

        var (result, error) = await model.GenerateAsync(new byte[] { 1, 2, 3 }, "<CAPTION>", 0, 20, "r", "messages[0].content[0]", CancellationToken.None);

        Assert.Null(result);
        Assert.Equal("messages[0].content[0]", error!.Param);
    }
}
