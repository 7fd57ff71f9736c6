namespace MmServe.Media.Remote;

/// <summary>The body of a successful remote fetch, never larger than the byte limit it was fetched with.</summary>
/// <remarks>A class, not a record: value equality over a memory region would compare references, not bytes.</remarks>
public sealed class FetchedMedia(ReadOnlyMemory<byte> content, string? contentType, Uri finalUrl)
{
    /// <summary>The body, after any Content-Encoding (gzip, deflate, brotli) was undone.</summary>
    public ReadOnlyMemory<byte> Content { get; } = content;

    /// <summary>The Content-Type header as sent (for example <c>image/png</c>), or null when there was none.
    /// It is the server's claim only; sniff the bytes before trusting it.</summary>
    public string? ContentType { get; } = contentType;

    /// <summary>The URL the body came from, after redirects.</summary>
    public Uri FinalUrl { get; } = finalUrl ?? throw new ArgumentNullException(nameof(finalUrl));

    public override string ToString() => $"FetchedMedia({Content.Length} bytes, {ContentType ?? "no content type"})";
}
