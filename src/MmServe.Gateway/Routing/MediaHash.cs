using System.Buffers;
using System.Buffers.Text;

namespace MmServe.Gateway.Routing;

/// <summary>
/// The affinity key of one medium: SHA-256 of its bytes, so that a data: URL, an input_audio base64 string and gRPC's
/// raw bytes of the same file give the same key (the worker's encoder cache is keyed by the bytes too); a medium sent
/// by http(s) URL is keyed by the URL.
/// </summary>
internal static class MediaHash
{
    private static ReadOnlySpan<byte> DataScheme => "data:"u8;

    private static ReadOnlySpan<byte> Base64Marker => ";base64"u8;

    /// <summary>An image_url / video_url / audio_url value (UTF-8).</summary>
    public static AffinityKey OfUrl(ReadOnlySpan<byte> url)
    {
        if (url.Length > DataScheme.Length && url[..DataScheme.Length].SequenceEqual(DataScheme) && url.IndexOf((byte)',') is var comma and > 0)
        {
            var header = url[..comma];
            var payload = url[(comma + 1)..];
            return header.EndsWith(Base64Marker) ? OfBase64(payload) : AffinityKey.Media(payload);
        }

        return AffinityKey.Media(url);
    }

    /// <summary>Base64 text (input_audio.data, a data: URL's payload): the key of the decoded bytes.</summary>
    public static AffinityKey OfBase64(ReadOnlySpan<byte> base64)
    {
        var decoded = ArrayPool<byte>.Shared.Rent(Base64.GetMaxDecodedFromUtf8Length(base64.Length));
        try
        {
            var status = Base64.DecodeFromUtf8(base64, decoded, out _, out int written);

            // Text that is not plain base64 (line breaks, URL-safe alphabet) is keyed as it is: the same text still
            // finds the same worker.
            return status == OperationStatus.Done ? AffinityKey.Media(decoded.AsSpan(0, written)) : AffinityKey.Media(base64);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(decoded);
        }
    }
}
