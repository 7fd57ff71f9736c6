using MmServe.Media;

namespace MmServe.Serving.Media;

/// <summary>
/// One modality's front end: encoded bytes (already fetched and size-checked) to the encoder's input floats,
/// exactly per the manifest's preprocessing. Expected failures (corrupt, hostile or oversized media) come back
/// as <see cref="MediaError"/> values, never exceptions.
/// </summary>
public interface IMediaPreprocessor
{
    string Modality { get; }

    /// <summary>Largest encoded item accepted, checked before decoding (and while fetching remote media).</summary>
    long MaxEncodedBytes { get; }

    /// <summary>Floats of one preprocessed item.</summary>
    int OutputLength { get; }

    /// <summary>Everything besides the bytes that determines the embeddings (part of the cache key).</summary>
    string ConfigurationKey { get; }

    Task<MediaResult<float[]>> PreprocessAsync(ReadOnlyMemory<byte> encoded, string? declaredFormat, CancellationToken ct);
}
