using MmServe.Engine;
using MmServe.Serving.Capabilities;
using MmServe.Serving.Errors;
using MmServe.Serving.Generation;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tasks;
using MmServe.Serving.Telemetry;

namespace MmServe.Serving.Models;

/// <summary>
/// Everything one served model needs to answer requests: its bundle, engine (own workers and KV caches), media
/// encoders, generators, rules, session service and description. The edges pick an instance by the request's
/// "model" (<see cref="ModelRegistry"/>) and use nothing else.
/// </summary>
public sealed class ModelInstance(
    ServedModel model,
    IGenerationEngine engine,
    MediaPolicy policy,
    IMediaGenerator generator,
    GenerationRules rules,
    GenerationService generation,
    SingleTurnRunner tasks,
    ModelDescription description,
    ModelWarmUp warmUp,
    ModelMetrics? metrics = null) : IAsyncDisposable
{
    private readonly List<object> _owned = [];

    public string Id => model.Id;

    public ServedModel Model => model;

    public IGenerationEngine Engine => engine;

    public MediaPolicy Policy => policy;

    public IMediaGenerator Generator => generator;

    public GenerationService Generation => generation;

    public SingleTurnRunner Tasks => tasks;

    public ModelDescription Description => description;

    public ModelWarmUp WarmUp => warmUp;

    /// <summary>Shutdown's deadline passed: generations still running end with finish_reason "abort".</summary>
    public void StopGenerating() => engine.StopGenerating();

    /// <summary>The shared rules, counting a refusal in this model's metrics.</summary>
    public (ValidatedRequest? Request, ServingError? Error) Validate(GenerationInput input)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (request, error) = rules.Validate(input);
        if (error is not null)
        {
            metrics?.Refused(error, started);
        }

        return (request, error);
    }

    /// <summary>Components this instance built itself and disposes (the first model's belong to the container).</summary>
    internal ModelInstance Owning(params object[] components)
    {
        _owned.AddRange(components);
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        // Engine first (it stops the workers using the executors), then the batchers behind encoders and generators.
        foreach (var component in _owned)
        {
            switch (component)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }
}
