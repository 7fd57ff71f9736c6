using MmServe.Abstractions;
using MmServe.Api.Serving.Media;
using MmServe.Engine;
using MmServe.Model.Chat;

namespace MmServe.Api.Serving;

/// <summary>
/// Loads the bundle and starts the engine while the host starts (a bad bundle fails the start with the loader's
/// message), then runs one tiny generation in the background; /health/ready turns healthy when it has finished.
/// </summary>
internal sealed partial class ModelStartupService(
    IServiceProvider services,
    ModelReadiness readiness,
    IHostApplicationLifetime lifetime,
    ILogger<ModelStartupService> logger) : IHostedService
{
    private Task _warmUp = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ServedModel model;
        GenerationEngine engine;
        MediaEmbedder media;
        try
        {
            model = services.GetRequiredService<ServedModel>();
            media = services.GetRequiredService<MediaEmbedder>();
            engine = services.GetRequiredService<GenerationEngine>();
        }
        catch (Exception e)
        {
            Log.LoadFailed(logger, e.Message);
            throw;
        }

        Log.Loaded(logger, model.Id, model.Bundle.Directory, engine.ModelInfo.MaxContext, engine.Stats.Workers.Count);
        _warmUp = Task.Run(() => WarmUpAsync(model, engine, media, lifetime.ApplicationStopping), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>The warm-up stops with ApplicationStopping, which fires before this is called.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _warmUp.WaitAsync(cancellationToken);

    private async Task WarmUpAsync(ServedModel model, GenerationEngine engine, MediaEmbedder media, CancellationToken ct)
    {
        try
        {
            var started = TimeProvider.System.GetTimestamp();
            if (media.Policy.Accepts(ServedModel.ImageModality))
            {
                // Runs the encoder chain once so the first image request does not pay for its session warm-up.
                _ = await media.EmbedAsync(
                    [new MediaReference(ServedModel.ImageModality, MediaSourceKind.DataUrl, SampleImage.RedSquareDataUrl, null, "warm-up")], ct).ConfigureAwait(false);
            }

            var prompt = model.Prompts.Build([ChatTurn.FromText("user", "Hello!")]);
            var request = new GenerationRequest("warm-up", prompt.Ids, new SamplingParams { Temperature = 0, MaxTokens = 2 });
            var handle = await engine.SubmitAsync(request, ct).ConfigureAwait(false);
            await foreach (var item in handle.Events.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (item is ErrorEvent error)
                {
                    Log.WarmUpFailed(logger, error.Error.Message);
                    return;
                }
            }

            readiness.MarkReady();
            Log.Ready(logger, TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Log.WarmUpCrashed(logger, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Critical, "The model could not be loaded: {Reason}")]
        public static partial void LoadFailed(ILogger logger, string reason);

        [LoggerMessage(2, LogLevel.Information, "Serving model {ModelId} from {Directory} (context {MaxContext} tokens, {Workers} worker(s)).")]
        public static partial void Loaded(ILogger logger, string modelId, string directory, int maxContext, int workers);

        [LoggerMessage(3, LogLevel.Information, "Warm-up finished in {Milliseconds:F0} ms; the server is ready.")]
        public static partial void Ready(ILogger logger, double milliseconds);

        [LoggerMessage(4, LogLevel.Critical, "The warm-up generation failed: {Reason}; the server stays not ready.")]
        public static partial void WarmUpFailed(ILogger logger, string reason);

        [LoggerMessage(5, LogLevel.Critical, "The warm-up generation crashed; the server stays not ready.")]
        public static partial void WarmUpCrashed(ILogger logger, Exception exception);
    }
}
