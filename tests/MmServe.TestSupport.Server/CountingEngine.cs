using Microsoft.Extensions.DependencyInjection;
using MmServe.Abstractions;
using MmServe.Engine;

namespace MmServe.TestSupport.Server;

/// <summary>
/// Decorates the served engine and counts the requests the API submits to it (the warm-up goes to the concrete
/// engine and is not counted): what a test needs to show that a refused request never reached the model.
/// </summary>
public sealed class CountingEngine(IGenerationEngine inner) : IGenerationEngine
{
    private int _submitted;

    public int Submitted => Volatile.Read(ref _submitted);

    public ExecutorInfo ModelInfo => inner.ModelInfo;

    public EngineStats Stats => inner.Stats;

    public ValueTask<GenerationHandle> SubmitAsync(GenerationRequest request, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _submitted);
        return inner.SubmitAsync(request, ct);
    }

    /// <summary>For <see cref="MmServeFactory"/>'s services argument: the first model's engine becomes a counting one.</summary>
    public static void Register(IServiceCollection services)
    {
        services.AddSingleton(sp => new CountingEngine(sp.GetRequiredService<GenerationEngine>()));
        services.AddSingleton<IGenerationEngine>(sp => sp.GetRequiredService<CountingEngine>());
    }
}
