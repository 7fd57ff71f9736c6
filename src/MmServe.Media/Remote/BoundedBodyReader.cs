namespace MmServe.Media.Remote;

/// <summary>
/// Reads a response body into one array unless it holds more than a byte limit. At most limit + 1 bytes are
/// ever taken from the stream and the array never grows past the limit, so a body that never ends, or a
/// small gzip stream that inflates to gigabytes, costs no more than the limit.
/// </summary>
internal static class BoundedBodyReader
{
    /// <summary>First allocation when the length is unknown; doubled (capped at the limit) as data arrives.</summary>
    internal const int InitialCapacity = 64 * 1024;

    /// <summary>The bytes, or null when the stream holds more than <paramref name="maxBytes"/>.</summary>
    /// <param name="expectedLength">Declared length (already checked against the limit), used to allocate once.</param>
    public static async Task<ReadOnlyMemory<byte>?> ReadAsync(Stream stream, int maxBytes, long? expectedLength, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(expectedLength ?? InitialCapacity, maxBytes)];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length == maxBytes)
                {
                    // Full at the limit: a single further byte proves the body is too large, and we read no more.
                    var probe = new byte[1];
                    var extra = await stream.ReadAsync(probe, cancellationToken).ConfigureAwait(false);
                    // The cast matters: a bare null would convert to an empty ReadOnlyMemory (via byte[]), not to "too large".
                    return extra == 0 ? new ReadOnlyMemory<byte>(buffer, 0, total) : (ReadOnlyMemory<byte>?)null;
                }

                Array.Resize(ref buffer, (int)Math.Min(Math.Max(2L * buffer.Length, InitialCapacity), maxBytes));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return new ReadOnlyMemory<byte>(buffer, 0, total);
            }

            total += read;
        }
    }
}
