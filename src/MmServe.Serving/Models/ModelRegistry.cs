using MmServe.Serving.Errors;
using MmServe.Serving.Telemetry;

namespace MmServe.Serving.Models;

/// <summary>The served models by id, in configuration order; the first is the default of endpoints whose "model" is optional.</summary>
public sealed class ModelRegistry : IAsyncDisposable
{
    private readonly IReadOnlyList<ModelInstance> _all;
    private readonly Dictionary<string, ModelInstance> _byId;

    private readonly ServingMetrics? _metrics;

    public ModelRegistry(IReadOnlyList<ModelInstance> instances, ServingMetrics? metrics = null)
    {
        _metrics = metrics;
        if (instances.Count == 0)
        {
            throw new ArgumentException("At least one model is served.", nameof(instances));
        }

        _all = instances;
        metrics?.ObserveEngines(() => _all.Select(m => (m.Id, m.Engine)));
        _byId = new Dictionary<string, ModelInstance>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            if (!_byId.TryAdd(instance.Id, instance))
            {
                throw new InvalidOperationException($"Two models are served under the id '{instance.Id}'; give each entry of Models a distinct Id.");
            }
        }
    }

    public IReadOnlyList<ModelInstance> All => _all;

    public ModelInstance Default => _all[0];

    /// <summary>The model a request names: missing or unknown ids are the same errors on every API.</summary>
    public (ModelInstance? Model, ServingError? Error) Find(string? id, string param = "model")
    {
        if (string.IsNullOrEmpty(id))
        {
            return (null, ServingError.Missing(param));
        }

        return _byId.TryGetValue(id, out var instance) ? (instance, null) : (null, ServingError.ModelNotFound(id, param));
    }

    /// <summary>The model a generation request names; a missing or unknown one is counted under the bounded label "unknown".</summary>
    public (ModelInstance? Model, ServingError? Error) Resolve(string? id, string param = "model")
    {
        var found = Find(id, param);
        if (found.Error is { } error)
        {
            _metrics?.Refused(ServingMetrics.UnknownModel, error, TimeSpan.Zero);
        }

        return found;
    }

    /// <summary>Disposes the instances built besides the container's (see <see cref="ModelInstance.Owning"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _all)
        {
            await instance.DisposeAsync().ConfigureAwait(false);
        }
    }
}
