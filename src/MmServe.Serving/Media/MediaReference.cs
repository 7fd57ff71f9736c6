namespace MmServe.Serving.Media;

/// <summary>Where a media item's bytes come from.</summary>
public enum MediaSourceKind
{
    /// <summary>An RFC 2397 <c>data:</c> URL (image_url.url, video_url.url).</summary>
    DataUrl,

    /// <summary>Bare base64 (input_audio.data).</summary>
    Base64,

    /// <summary>An http(s) URL, fetched only when the operator enables remote media.</summary>
    Remote,

    /// <summary>Raw encoded bytes, as gRPC clients send them (<see cref="MediaReference.Bytes"/>).</summary>
    Bytes,
}

/// <summary>One media item of a request, collected while parsing and not yet fetched or decoded.</summary>
/// <param name="Modality">"image", "audio" or "video" (the manifest's input modality names).</param>
/// <param name="Kind">How <paramref name="Source"/> is to be read.</param>
/// <param name="Source">The data: URL, the base64 payload or the remote URL; for <see cref="MediaSourceKind.Bytes"/> the declared MIME type.</param>
/// <param name="Format">The client's declared format (input_audio.format), or null.</param>
/// <param name="Param">Where it was in the request, e.g. "messages[1].content[0].image_url.url", for error messages.</param>
public sealed record MediaReference(string Modality, MediaSourceKind Kind, string Source, string? Format, string Param)
{
    /// <summary>The encoded item itself when <see cref="Kind"/> is <see cref="MediaSourceKind.Bytes"/>; empty otherwise.</summary>
    public ReadOnlyMemory<byte> Bytes { get; init; }
}
