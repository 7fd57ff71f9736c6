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
    private static Florence2Model NewModel() => new(Florence2Golden.ModelFolder, workers: 1, new EngineOptions { MaxBatchSize = 32 });

    private static Task<(Florence2Result? Result, Errors.ServingError? Error)> Run(Florence2Model model, Florence2GoldenCase c) =>
        model.GenerateAsync(c.ReadImage(), c.Text, 0, Florence2Golden.MaxNewTokens, c.Id, "image", CancellationToken.None);

    private static void AssertGolden(Florence2GoldenCase c, (Florence2Result? Result, Errors.ServingError? Error) outcome)
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
        var cases = Florence2Golden.Cases();
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
        var cases = Florence2Golden.Cases();

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
