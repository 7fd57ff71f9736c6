namespace MmServe.Api.Serving.Generation;

/// <summary>Output modalities' generator chains, each behind a batcher shared by all requests.</summary>
internal sealed class MediaGenerator(IReadOnlyDictionary<string, OutputModality> modalities) : IMediaGenerator, IAsyncDisposable
{
    public IReadOnlyDictionary<string, OutputModality> Modalities => modalities;

    public async Task<GeneratedMedia> GenerateAsync(OutputModality modality, float[] signalHiddenStates, CancellationToken ct)
    {
        var samples = await modality.Batcher.RunAsync(signalHiddenStates, ct).ConfigureAwait(false);
        return new GeneratedMedia(modality, samples);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var modality in modalities.Values)
        {
            await modality.DisposeAsync().ConfigureAwait(false);
        }
    }
}
