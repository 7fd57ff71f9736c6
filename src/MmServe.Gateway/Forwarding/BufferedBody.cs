using System.Buffers;

namespace MmServe.Gateway.Forwarding;

/// <summary>
/// A request body read completely into a pooled buffer, bounded by Forwarding:MaxRequestBodyBytes (Kestrel enforces
/// the same bound): routing reads it, and each forwarding attempt replays it from the start.
/// </summary>
internal sealed class BufferedBody : IDisposable
{
    private byte[]? _buffer;

    private BufferedBody(byte[] buffer, int length) => (_buffer, Length) = (buffer, length);

    public int Length { get; }

    public ReadOnlySpan<byte> Span => (_buffer ?? throw new ObjectDisposedException(nameof(BufferedBody))).AsSpan(0, Length);

    /// <summary>A fresh read-only stream over the bytes, for one forwarding attempt.</summary>
    public Stream OpenRead() => new MemoryStream(_buffer ?? throw new ObjectDisposedException(nameof(BufferedBody)), 0, Length, writable: false);

    /// <exception cref="BodyTooLargeException">The body is longer than <paramref name="limit"/>.</exception>
    public static async Task<BufferedBody> ReadAsync(Stream body, long? contentLength, int limit, CancellationToken ct)
    {
        if (contentLength > limit)
        {
            throw new BodyTooLargeException();
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(contentLength ?? 16 * 1024, 1, limit) + 1);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)limit + 1, buffer.Length * 2L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await body.ReadAsync(buffer.AsMemory(length), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    return new BufferedBody(buffer, length);
                }

                length += read;
                if (length > limit)
                {
                    throw new BodyTooLargeException();
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

internal sealed class BodyTooLargeException() : Exception("The request body is larger than Gateway:Forwarding:MaxRequestBodyBytes.");
