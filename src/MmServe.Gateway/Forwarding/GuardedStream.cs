using System.Buffers;

namespace MmServe.Gateway.Forwarding;

/// <summary>
/// The body of a worker's SSE or gRPC stream as YARP copies it to the client, handed on in whole messages only (an
/// event or a gRPC message is held until its last byte has arrived). If the worker's connection breaks:
/// before anything was handed on, the error propagates and the forwarder may retry the request on another worker;
/// after that, the partial message is dropped and the stream ends cleanly — SSE with an OpenAI-style error event,
/// gRPC with grpc-status UNAVAILABLE (set by <see cref="GatewayTransformer"/> in the trailers) — instead of a
/// connection reset the client might read as a truncated success or wait on.
/// </summary>
internal sealed class GuardedStream(Stream inner, StreamFraming framing, ForwardingAttempt attempt) : Stream
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private int _start;      // next byte to hand on
    private int _releasable; // end of the whole messages
    private int _end;        // end of the bytes read
    private ReadOnlyMemory<byte> _tail;
    private bool _ended;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (destination.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_releasable > _start)
            {
                int count = Math.Min(destination.Length, _releasable - _start);
                _buffer.AsSpan(_start, count).CopyTo(destination.Span);
                _start += count;
                attempt.BodyStarted = true;
                return count;
            }

            if (!_tail.IsEmpty)
            {
                int count = Math.Min(destination.Length, _tail.Length);
                _tail[..count].CopyTo(destination);
                _tail = _tail[count..];
                return count;
            }

            if (_ended)
            {
                return 0;
            }

            MakeRoom();
            int read;
            try
            {
                read = await inner.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested && attempt.BodyStarted)
            {
                attempt.StreamFailure = e;
                _ended = true;
                _end = _releasable;
                _tail = framing == StreamFraming.ServerSentEvents ? GatewayError.StreamBrokeEvent : ReadOnlyMemory<byte>.Empty;
                continue;
            }

            if (read == 0)
            {
                // A clean end: whatever is left goes out as it is.
                _ended = true;
                _releasable = _end;
                continue;
            }

            _end += read;
            _releasable += framing.WholeMessagesLength(_buffer.AsSpan(_releasable, _end - _releasable));
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            if (Interlocked.Exchange(ref _buffer, []) is { Length: > 0 } buffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>Free space after <see cref="_end"/>: start over when all was handed on, else compact, else grow (a large message).</summary>
    private void MakeRoom()
    {
        if (_start == _end)
        {
            _start = _releasable = _end = 0;
        }

        if (_end < _buffer.Length)
        {
            return;
        }

        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            (_releasable, _end, _start) = (_releasable - _start, _end - _start, 0);
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
        _buffer.AsSpan(0, _end).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
