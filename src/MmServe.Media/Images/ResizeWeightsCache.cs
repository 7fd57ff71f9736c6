using System.Collections.Concurrent;

namespace MmServe.Media.Images;

/// <summary>
/// Remembers <see cref="AntialiasResizeWeights"/> per (input, output) size. Input sizes come from clients,
/// so the cache is bounded: once full, new sizes are computed per call rather than growing memory.
/// </summary>
internal sealed class ResizeWeightsCache(int capacity)
{
    private readonly ConcurrentDictionary<(int Input, int Output), AntialiasResizeWeights> _entries = new();

    public AntialiasResizeWeights Get(int inputSize, int outputSize)
    {
        if (_entries.TryGetValue((inputSize, outputSize), out var cached))
        {
            return cached;
        }

        var computed = AntialiasResizeWeights.Compute(inputSize, outputSize);
        if (_entries.Count < capacity)
        {
            _entries.TryAdd((inputSize, outputSize), computed);
        }

        return computed;
    }

    internal int Count => _entries.Count;
}
