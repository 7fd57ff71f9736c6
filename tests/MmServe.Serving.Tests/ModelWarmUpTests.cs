using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Serving.Generation;
using MmServe.Serving.Media;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tests.Fakes;

namespace MmServe.Serving.Tests;

/// <summary>
/// The warm-up checks what every component returns: the real mmserve-tiny encoders on the sample image and clip,
/// each generator's output, and a generation through the session. A component that answers badly keeps the
/// server not ready, with the reason.
/// </summary>
public sealed class ModelWarmUpTests : IAsyncLifetime
{
    private readonly ScriptedEngine _engine = new();
    private MediaEmbedder _media = null!;

    public Task InitializeAsync()
    {
        var media = new MediaOptions { FfmpegPath = "/nonexistent/ffmpeg", FfprobePath = "/nonexistent/ffprobe" };
        var limits = new LimitsOptions();
        _media = MediaEmbedderFactory.Create(
            TestModel.Model, limits, media, new WorkerOptions(), FfmpegSupport.Detect(media, limits, NullLogger.Instance), NullLoggerFactory.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _media.DisposeAsync();

    private ModelWarmUp WarmUp(IMediaGenerator generator) => new(
        TestModel.Model, _media, generator, _engine, new PromptPreparer(TestModel.Model, _media), new TokenLogprobs(TestModel.Model),
        NullLogger<GenerationSession>.Instance);

    [Fact]
    public async Task HealthyComponents_PassAndTheGenerationCarriesTheSamples()
    {
        _engine.Script.AddRange([new TokenDeltaEvent([11, 12], "Hi"), new FinishedEvent(FinishReason.Length, 40, 2)]);
        var failure = await WarmUp(new ShapedGenerator(TestModel.Generator, _ => 0f)).RunAsync(CancellationToken.None);

        Assert.Null(failure);
        var submitted = Assert.Single(_engine.Submitted);
        // The image (16 tokens) and the clip (8 tokens) are spliced into the prompt as real encoder outputs.
        Assert.Equal([16, 8], submitted.Media.Select(m => m.Length));
        Assert.All(submitted.Media, m => Assert.Equal(m.Length * _engine.ModelInfo.HiddenSize, m.Embeddings.Length));
    }

    [Fact]
    public async Task GeneratorReturningTheWrongLength_KeepsTheServerNotReady()
    {
        var failure = await WarmUp(new ShapedGenerator(TestModel.Generator, _ => 0f, lengthDelta: -1)).RunAsync(CancellationToken.None);
        Assert.NotNull(failure);
        Assert.Contains("generator returned", failure, StringComparison.Ordinal);
        Assert.Empty(_engine.Submitted);
    }

    [Fact]
    public async Task GeneratorReturningNaN_KeepsTheServerNotReady()
    {
        var failure = await WarmUp(new ShapedGenerator(TestModel.Generator, i => i == 3 ? float.NaN : 0f)).RunAsync(CancellationToken.None);
        Assert.Contains("finite", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerationWithoutTokens_KeepsTheServerNotReady()
    {
        _engine.Script.Add(new FinishedEvent(FinishReason.Stop, 40, 0));
        var failure = await WarmUp(new ShapedGenerator(TestModel.Generator, _ => 0f)).RunAsync(CancellationToken.None);
        Assert.Equal("the warm-up generation produced no token", failure);
    }

    [Fact]
    public async Task EngineThatRefuses_KeepsTheServerNotReady()
    {
        _engine.Rejection = new EngineError(EngineErrorCode.Unavailable, "Stopping.");
        var failure = await WarmUp(new ShapedGenerator(TestModel.Generator, _ => 0f)).RunAsync(CancellationToken.None);
        Assert.Equal("the warm-up generation was refused: Stopping.", failure);
    }

    /// <summary>The real generator's modalities, answering with samples of its choosing.</summary>
    private sealed class ShapedGenerator(IMediaGenerator real, Func<int, float> sample, int lengthDelta = 0) : IMediaGenerator
    {
        public IReadOnlyDictionary<string, OutputModality> Modalities => real.Modalities;

        public Task<GeneratedMedia> GenerateAsync(OutputModality modality, float[] signalHiddenStates, CancellationToken ct) =>
            Task.FromResult(new GeneratedMedia(modality, [.. Enumerable.Range(0, modality.OutputLength + lengthDelta).Select(sample)]));
    }
}
