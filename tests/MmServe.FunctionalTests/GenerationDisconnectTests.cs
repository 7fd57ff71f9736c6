using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Serving.Generation;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// A client that goes away while its image is being generated stops the generator work: the request's token
/// reaches the generator, and the real generator batcher drops the item instead of running it.
/// </summary>
public sealed class GenerationDisconnectTests : IAsyncLifetime
{
    private readonly HeldGenerator _held = new();
    private readonly MmServeFactory _factory;

    public GenerationDisconnectTests()
    {
        _factory = new MmServeFactory(services: services =>
            services.AddSingleton<IMediaGenerator>(sp => _held.Wrap(sp.GetRequiredService<MediaGenerator>())));
    }

    public Task InitializeAsync() => _factory.StartAndWaitReadyAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task ClientDisconnectDuringGeneration_CancelsTheGeneratorWork()
    {
        var image = _factory.Services.GetRequiredService<MediaGenerator>().Modalities["image"];
        var runsBefore = image.Batcher.Stats;
        var body = Chat.Request("Draw a red circle.", maxTokens: 40);
        body["modalities"] = new System.Text.Json.Nodes.JsonArray("text", "image");
        body["stream"] = true;
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, ResponseDrainTimeout = TimeSpan.Zero })
        {
            BaseAddress = _factory.BaseAddress,
        };
        using var cancel = new CancellationTokenSource();
        var response = await Chat.PostStreamingAsync(client, body, cancel.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The model has emitted its signal tokens and the image is being generated: now the client leaves.
        await _held.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();
        response.Dispose();

        var outcome = await _held.Outcome.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("cancelled", outcome);
        Assert.Equal(runsBefore, image.Batcher.Stats); // the real generator never ran the item
        Assert.Empty(_factory.Logs.ErrorsWithExceptions());
    }

    /// <summary>Holds each generation until its request is cancelled, then hands it to the real generator.</summary>
    private sealed class HeldGenerator
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<string> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IMediaGenerator Wrap(MediaGenerator inner) => new Wrapper(this, inner);

        private sealed class Wrapper(HeldGenerator held, MediaGenerator inner) : IMediaGenerator
        {
            public IReadOnlyDictionary<string, OutputModality> Modalities => inner.Modalities;

            public async Task<GeneratedMedia> GenerateAsync(OutputModality modality, float[] signalHiddenStates, CancellationToken ct)
            {
                held.Started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct).WaitAsync(TimeSpan.FromSeconds(20));
                }
                catch (TimeoutException)
                {
                    held.Outcome.TrySetResult("never cancelled");
                    throw;
                }
                catch (OperationCanceledException)
                {
                    // Cancelled as expected; the real generator must now refuse the work too.
                }

                try
                {
                    var media = await inner.GenerateAsync(modality, signalHiddenStates, ct);
                    held.Outcome.TrySetResult("ran");
                    return media;
                }
                catch (OperationCanceledException)
                {
                    held.Outcome.TrySetResult("cancelled");
                    throw;
                }
            }
        }
    }
}
