using MmServe.Engine;
using MmServe.Media.Ffmpeg;
using MmServe.Serving.Speech;

namespace MmServe.Serving.Tests.Speech;

/// <summary>
/// tiny-whisper end to end below HTTP: the 28 golden cases' audio files (8/16/44.1 kHz WAV, MP3, FLAC) through
/// decoding, log-mel, encoder and the engine's encoder-decoder path give transformers.js's greedy ids and text,
/// one at a time and all in flight at once; every sequence's cross state is released afterwards.
/// </summary>
public sealed class WhisperModelTests
{
    private static readonly string Folder = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-whisper");

    private static IReadOnlyList<WhisperGoldenCase> Cases() => WhisperGolden.Cases();

    private static WhisperModel NewModel() =>
        new(Folder, workers: 1, new EngineOptions { MaxBatchSize = 32 }, FfmpegTools.DetectAsync().GetAwaiter().GetResult());

    private static Task<(TranscriptionResult? Result, Errors.ServingError? Error)> Run(WhisperModel model, WhisperGoldenCase c) =>
        model.TranscribeAsync(File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "conformance", c.Audio)), c.Language, c.Task, 0, 24, c.Id, CancellationToken.None);

    private static void AssertGolden(WhisperGoldenCase c, (TranscriptionResult? Result, Errors.ServingError? Error) outcome)
    {
        Assert.Null(outcome.Error);
        Assert.True(c.OutputIds.SequenceEqual(outcome.Result!.TokenIds), $"{c.Id} ({c.Audio}): [{string.Join(", ", outcome.Result.TokenIds)}] != golden [{string.Join(", ", c.OutputIds)}]");
        Assert.Equal(c.OutputText, outcome.Result.Text);
    }

    [Fact]
    public async Task WarmUp_TranscribesTheSampleClip_AndReleasesItsSlot()
    {
        using var model = NewModel();

        Assert.Null(await model.WarmUpAsync(CancellationToken.None));
        Assert.True(model.Stats.ReleasedSlots >= 1, "the warm-up sequence should have released its slot");
    }

    [FfmpegFact]
    public async Task AllGoldenCases_OneAtATime_GiveTransformersJsIdsAndText()
    {
        using var model = NewModel();
        var cases = Cases();
        Assert.Equal(28, cases.Count);
        foreach (var c in cases)
        {
            AssertGolden(c, await Run(model, c));
        }
    }

    [FfmpegFact]
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
    public async Task AnUnknownLanguage_IsRefusedBeforeTheAudioIsRead()
    {
        using var model = NewModel();

        var (result, error) = await model.TranscribeAsync(new byte[] { 1, 2, 3 }, "xx", "transcribe", 0, 24, "r", CancellationToken.None);

        Assert.Null(result);
        Assert.Equal("language", error!.Param);
    }
}
