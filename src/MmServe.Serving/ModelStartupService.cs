using MmServe.Serving.Models;

namespace MmServe.Serving;

/// <summary>
/// Loads every served model and starts its engine while the host starts (a bad bundle fails the start with the
/// loader's message), then runs each model's <see cref="ModelWarmUp"/> in the background, and one short request of each
/// Florence-2 and speech model; /health/ready turns healthy when every component of every model has answered well.
/// </summary>
public sealed partial class ModelStartupService(
    IServiceProvider services,
    ModelReadiness readiness,
    IHostApplicationLifetime lifetime,
    ILogger<ModelStartupService> logger) : IHostedService, IDisposable
{
    /// <summary>Longest wait, while the container is disposed, for a cancelled warm-up to let go of the models.</summary>
    private static readonly TimeSpan WarmUpExitWait = TimeSpan.FromSeconds(10);

    // Cancelled when the host stops, and also when it is disposed without having stopped (a start that failed
    // later, e.g. a port that could not be bound), before the models the warm-up uses are disposed.
    private readonly CancellationTokenSource _stopWarmUp = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
    private Task _warmUp = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ModelRegistry models;
        try
        {
            models = services.GetRequiredService<ModelRegistry>();

            // Speech models (Whisper) load here too, so a broken "SpeechModels" entry stops the start.
            _ = services.GetService<Speech.SpeechModelRegistry>();
            _ = services.GetService<Florence2.Florence2ModelRegistry>();
        }
        catch (Exception e)
        {
            Log.LoadFailed(logger, e.Message);
            throw;
        }

        foreach (var model in models.All)
        {
            Log.Loaded(logger, model.Id, model.Model.Bundle.Directory, model.Engine.ModelInfo.MaxContext, model.Engine.Stats.Workers.Count);
            if (!model.Model.SamplingDefaults.IsEmpty)
            {
                Log.SamplingDefaults(logger, model.Id, model.Model.SamplingDefaults.Describe(), model.Model.SamplingDefaults.Source);
            }

            if (model.Model.Bundle.GenAi?.SettingsNotApplied() is { Count: > 0 } ignored)
            {
                Log.GenAiSettingsNotApplied(logger, model.Id, string.Join(", ", ignored));
            }
        }

        IEnumerable<IFolderModel> folderModels = [
            .. services.GetService<Florence2.Florence2ModelRegistry>()?.All ?? [],
            .. services.GetService<Speech.SpeechModelRegistry>()?.All ?? []];
        _warmUp = Task.Run(() => WarmUpAsync(models, [.. folderModels], _stopWarmUp.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>The warm-up stops with ApplicationStopping, which fires before this is called.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _warmUp.WaitAsync(cancellationToken);

    /// <summary>The container disposes this before the models it was created after.</summary>
    public void Dispose()
    {
        _stopWarmUp.Cancel();
        _warmUp.Wait(WarmUpExitWait);
        _stopWarmUp.Dispose();
    }

    /// <summary>Every model in turn (they share the cores); ready only when all have answered well.</summary>
    private async Task WarmUpAsync(ModelRegistry models, IReadOnlyList<IFolderModel> folderModels, CancellationToken ct)
    {
        try
        {
            var started = TimeProvider.System.GetTimestamp();
            foreach (var model in models.All)
            {
                if (await model.WarmUp.RunAsync(ct).ConfigureAwait(false) is { } failure)
                {
                    Log.WarmUpFailed(logger, model.Id, failure);
                    return;
                }
            }

            foreach (var model in folderModels)
            {
                if (await model.WarmUpAsync(ct).ConfigureAwait(false) is { } failure)
                {
                    Log.WarmUpFailed(logger, model.Id, failure);
                    return;
                }
            }

            readiness.MarkReady();
            Log.Ready(logger, TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Stopping during the warm-up (a port that could not be bound, SIGTERM): ORT reports its terminated run
            // as a failure, but nothing crashed and there is nothing to log.
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

        [LoggerMessage(4, LogLevel.Critical, "The warm-up of model {ModelId} failed: {Reason}; the server stays not ready.")]
        public static partial void WarmUpFailed(ILogger logger, string modelId, string reason);

        [LoggerMessage(5, LogLevel.Critical, "The warm-up crashed; the server stays not ready.")]
        public static partial void WarmUpCrashed(ILogger logger, Exception exception);

        [LoggerMessage(6, LogLevel.Warning, "Model {ModelId}: genai_config.json settings read but not applied: {Settings}. The Workers settings decide providers and threads (docs/models.md, ORT GenAI folders).")]
        public static partial void GenAiSettingsNotApplied(ILogger logger, string modelId, string settings);

        [LoggerMessage(7, LogLevel.Information, "Model {ModelId}: request fields left unset take the model's sampling defaults: {Defaults} (from {Source}; Model:GenerationConfig=openai gives OpenAI's defaults instead).")]
        public static partial void SamplingDefaults(ILogger logger, string modelId, string defaults, string source);
    }
}
