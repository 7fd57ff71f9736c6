using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Serving.Generation;

/// <summary>
/// One output modality the server generates: its manifest entry, the ids of its signal tokens in order, and the
/// batcher in front of its output projector + generator.
/// </summary>
public sealed class OutputModality(string name, OutputModalitySpec spec, IReadOnlyList<int> signalTokenIds, ComponentBatcher batcher, GeneratorChain chain)
    : IAsyncDisposable
{
    public string Name => name;

    public OutputModalitySpec Spec => spec;

    /// <summary>Token ids of the signal tokens; the hidden state fed at signal token k is row k of the projector input.</summary>
    public IReadOnlyList<int> SignalTokenIds => signalTokenIds;

    public ComponentBatcher Batcher => batcher;

    /// <summary>Floats of one generated item.</summary>
    public int OutputLength => chain.OutputLength;

    /// <summary>Image width and height ("64x64"), for images.</summary>
    public string? Size => spec.Width is { } w && spec.Height is { } h ? $"{w}x{h}" : null;

    /// <summary>Audio sample rate, for audio.</summary>
    public int SampleRate => spec.SampleRate ?? 0;

    /// <summary>Voices a speech request may name (audio only).</summary>
    public IReadOnlyList<string> Voices => spec.Voices ?? [];

    public async ValueTask DisposeAsync()
    {
        await batcher.DisposeAsync().ConfigureAwait(false);
        chain.Dispose();
    }
}
