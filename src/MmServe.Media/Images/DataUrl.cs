namespace MmServe.Media.Images;

/// <summary>
/// A decoded RFC 2397 <c>data:</c> URL of the base64 form <c>data:&lt;media type&gt;[;param]*;base64,&lt;payload&gt;</c>.
/// </summary>
/// <param name="MediaType">Lower-cased media type without parameters, e.g. <c>image/png</c>; <c>text/plain</c> when omitted.</param>
/// <param name="Data">The decoded payload.</param>
public sealed record DataUrl(string MediaType, ReadOnlyMemory<byte> Data)
{
    private const string Scheme = "data:";
    private const string Base64Marker = "base64";
    private const string DefaultMediaType = "text/plain";

    /// <summary>
    /// Parses and base64-decodes <paramref name="url"/>. The decoded size is bounded from the payload
    /// length before anything is decoded, so an oversized body costs no allocation.
    /// </summary>
    public static MediaResult<DataUrl> Parse(string url, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);

        if (!url.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Invalid("The URL is not a data: URL.");
        }

        int comma = url.IndexOf(',', Scheme.Length);
        if (comma < 0)
        {
            return Invalid("The data URL has no ',' between its header and its payload.");
        }

        var header = url.AsSpan(Scheme.Length, comma - Scheme.Length);
        int lastSemicolon = header.LastIndexOf(';');
        if (lastSemicolon < 0 || !header[(lastSemicolon + 1)..].Trim().Equals(Base64Marker, StringComparison.OrdinalIgnoreCase))
        {
            return Invalid("Only base64 data URLs are supported (expected ';base64,' before the payload).");
        }

        int firstSemicolon = header.IndexOf(';');
        var mediaType = header[..firstSemicolon].Trim();
        string normalizedMediaType = mediaType.IsEmpty ? DefaultMediaType : mediaType.ToString().ToLowerInvariant();

        var payload = url.AsSpan(comma + 1);
        if (payload.IsEmpty)
        {
            return Invalid("The data URL payload is empty.");
        }

        long maxDecodedBytes = MaxDecodedLength(payload);
        if (maxDecodedBytes > maxBytes)
        {
            return new MediaError(
                MediaErrorCodes.PayloadTooLarge,
                $"The data URL payload decodes to about {maxDecodedBytes} bytes; the limit is {maxBytes} bytes.");
        }

        var buffer = new byte[maxDecodedBytes];
        if (!Convert.TryFromBase64Chars(payload, buffer, out int written))
        {
            return Invalid("The data URL payload is not valid base64.");
        }

        return MediaResult<DataUrl>.Success(new DataUrl(normalizedMediaType, buffer.AsMemory(0, written)));
    }

    /// <summary>
    /// Upper bound of the decoded length: 3 bytes per 4 characters, less '=' padding. Whitespace
    /// (which the decoder skips) only makes the bound looser, never too small.
    /// </summary>
    internal static long MaxDecodedLength(ReadOnlySpan<char> payload)
    {
        int padding = payload.EndsWith("==") ? 2 : payload.EndsWith("=") ? 1 : 0;
        return Math.Max(0, ((long)payload.Length * 3 / 4) - padding);
    }

    private static MediaError Invalid(string message) => new(MediaErrorCodes.InvalidDataUrl, message);
}
