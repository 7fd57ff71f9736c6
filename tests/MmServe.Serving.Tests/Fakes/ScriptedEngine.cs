using System.Threading.Channels;
using MmServe.Abstractions;
using MmServe.Engine;

namespace MmServe.Serving.Tests.Fakes;

/// <summary>An engine that answers each submission with a scripted event stream (or a rejection) and records what it was given.</summary>
public sealed class ScriptedEngine(int hiddenSize = 128) : IGenerationEngine
{
    public ExecutorInfo ModelInfo { get; } = new(VocabSize: 512, MaxContext: 256, MaxBatchSize: 8, HiddenSize: hiddenSize);

    public EngineStats Stats => throw new NotSupportedException();

    /// <summary>The events of the next submission; the channel completes after the last one.</summary>
    public List<GenerationEvent> Script { get; } = [];

    public EngineError? Rejection { get; set; }

    public List<GenerationRequest> Submitted { get; } = [];

    public ValueTask<GenerationHandle> SubmitAsync(GenerationRequest request, CancellationToken ct = default)
    {
        Submitted.Add(request);
        var channel = Channel.CreateUnbounded<GenerationEvent>();
        foreach (var item in Rejection is { } rejection ? [new ErrorEvent(rejection)] : Script)
        {
            channel.Writer.TryWrite(item);
        }

        channel.Writer.Complete();
        return ValueTask.FromResult(new GenerationHandle(request.RequestId, Submitted.Count, channel.Reader, Rejection));
    }
}
