using System.Buffers;

namespace MmServe.Media.Audio;

/// <summary>Reads a whole stream into memory unless it exceeds a byte limit; stops reading as soon as it does.</summary>
internal static class BoundedStreamReader
{
    private const int ChunkBytes = 81920;

    /// <summary>The bytes read, or null when the stream holds more than <paramref name="maxBytes"/>.</summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadAsync(Stream stream, long maxBytes, CancellationToken cancellationToken)
    {
        if (stream.CanSeek && stream.Length - stream.Position > maxBytes)
        {
            return null;
        }

        var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var buffer = new MemoryStream();
            int read;
            while ((read = await stream.ReadAsync(chunk.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
