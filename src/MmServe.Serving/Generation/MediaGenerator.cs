namespace MmServe.Serving.Generation;

/// <summary>Output modalities' generator chains, each behind a batcher shared by all requests.</summary>
public sealed class MediaGenerator(IReadOnlyDictionary<string, OutputModality> modalities) : IMediaGenerator, IAsyncDisposable
{
    private int _disposed;

    public IReadOnlyDictionary<string, OutputModality> Modalities => modalities;

    public async Task<GeneratedMedia> GenerateAsync(OutputModality modality, float[] signalHiddenStates, CancellationToken ct)
    {
        var samples = await modality.Batcher.RunAsync(signalHiddenStates, ct).ConfigureAwait(false);
        return new GeneratedMedia(modality, samples);
    }

    /// <summary>Idempotent: the container disposes it once as itself and once as <see cref="IMediaGenerator"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var modality in modalities.Values)
        {
            await modality.DisposeAsync().ConfigureAwait(false);
        }
    }
}
