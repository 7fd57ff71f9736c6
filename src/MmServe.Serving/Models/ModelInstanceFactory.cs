using Microsoft.Extensions.Options;
using MmServe.Engine;
using MmServe.Serving.Capabilities;
using MmServe.Serving.Generation;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tasks;
using MmServe.Serving.Telemetry;

namespace MmServe.Serving.Models;

/// <summary>
/// Builds the instance of one served model from its parts. The host builds the first model's parts in its container
/// (where tests and operators can decorate them); every further entry of "Models" is built here, with the same
/// shared settings (engine, limits, media, generation) and its own workers.
/// </summary>
public static class ModelInstanceFactory
{
    /// <summary>Wires an instance over parts that already exist.</summary>
    public static ModelInstance Assemble(
        ServedModel model,
        IGenerationEngine engine,
        GenerationEngine warmEngine,
        MediaEmbedder media,
        IMediaGenerator generator,
        MediaGenerator warmGenerator,
        ILoggerFactory loggerFactory,
        ServingMetrics? metrics = null,
        WorkerPlacements? placements = null)
    {
        var preparer = new PromptPreparer(model, media);
        var logprobs = new TokenLogprobs(model);
        var sessionLogger = loggerFactory.CreateLogger<GenerationSession>();
        var modelMetrics = metrics is null ? null : new ModelMetrics(metrics, model.Id);
        if (metrics is not null)
        {
            warmEngine.ObserveStepTokens(tokens => metrics.EngineStep(model.Id, tokens));
        }

        var generation = new GenerationService(preparer, engine, generator, logprobs, sessionLogger, modelMetrics, model.Id);
        return new ModelInstance(
            model,
            engine,
            media.Policy,
            generator,
            new GenerationRules(model, media.Policy, generator),
            generation,
            new SingleTurnRunner(generation),
            new ModelDescription(model, media, generator, placements),
            new ModelWarmUp(model, media, warmGenerator, warmEngine, preparer, logprobs, sessionLogger),
            modelMetrics);
    }

    /// <summary>Loads and starts one further model (bundle, engine workers, encoders, generators).</summary>
    /// <param name="entry">Its "Models" entry.</param>
    /// <param name="key">Its configuration key, e.g. "Models:1", named in errors.</param>
    public static ModelInstance Create(
        ModelEntryOptions entry,
        string key,
        string contentRoot,
        IReadOnlyList<WorkerOptions> defaultWorkers,
        EngineOptions engineOptions,
        LimitsOptions limits,
        MediaOptions mediaOptions,
        GenerationOptions generationOptions,
        FfmpegSupport ffmpeg,
        ILoggerFactory loggerFactory,
        ServingMetrics? metrics = null)
    {
        var model = new ServedModel(entry.Path, entry.Id, contentRoot, $"{key}:Path", entry.Dtype, entry.DecoderVariant, entry.ToolCallFormat, entry.GenerationConfig);
        var workers = new WorkerPoolOptions
        {
            Workers = entry.Workers is { Count: > 0 } own ? own : defaultWorkers,
            SettingPath = entry.Workers is { Count: > 0 } ? $"{key}:{WorkerPoolOptions.SectionName}" : WorkerPoolOptions.SectionName,
        };
        var placements = new WorkerPlacements();
        string encoderWorkerKey = $"{workers.SettingPath}:0";
        var engineForModel = new EngineOptions
        {
            NumWorkers = workers.Workers.Count,
            MaxQueuedRequests = engineOptions.MaxQueuedRequests,
            MaxBatchSize = engineOptions.MaxBatchSize,
            MaxNumBatchedTokens = engineOptions.MaxNumBatchedTokens,
            ShutdownTimeout = engineOptions.ShutdownTimeout,
        };
        var executors = new OnnxExecutorFactory(model, Options.Create(workers), Options.Create(engineForModel), loggerFactory, placements);
        var disposables = new List<object>();
        try
        {
            var engine = new GenerationEngine(executors, model.TextDecoder, engineForModel, loggerFactory);
            disposables.Add(engine);
            var media = MediaEmbedderFactory.Create(model, limits, mediaOptions, workers.Workers[0], ffmpeg, loggerFactory, metrics, encoderWorkerKey);
            disposables.Add(media);
            var generator = MediaGeneratorFactory.Create(model, generationOptions, workers.Workers[0], loggerFactory, metrics, encoderWorkerKey);
            disposables.Add(generator);
            return Assemble(model, engine, engine, media, generator, generator, loggerFactory, metrics, placements).Owning([.. disposables]);
        }
        catch
        {
            foreach (var component in Enumerable.Reverse(disposables))
            {
                (component as IDisposable)?.Dispose();
                if (component is IAsyncDisposable asyncDisposable and not IDisposable)
                {
                    asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
            }

            throw;
        }
    }
}
