using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

public sealed class BoundedBodyReaderTests
{
    [Theory]
    [InlineData(null)]
    [InlineData(1000L)]
    public async Task An_endless_stream_is_abandoned_after_at_most_one_byte_past_the_limit(long? declaredLength)
    {
        const int maxBytes = 300_000; // several growth steps past the initial capacity
        var source = new EndlessStream();

        var bytes = await BoundedBodyReader.ReadAsync(source, maxBytes, declaredLength, CancellationToken.None);

        Assert.Null(bytes);
        Assert.InRange(source.BytesRead, maxBytes + 1, maxBytes + 1);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(BoundedBodyReader.InitialCapacity)]
    [InlineData(BoundedBodyReader.InitialCapacity + 1)]
    [InlineData(250_000)]
    public async Task A_body_up_to_the_limit_is_returned_whole(int length)
    {
        var body = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

        var bytes = await BoundedBodyReader.ReadAsync(new MemoryStream(body), maxBytes: 250_000, expectedLength: null, CancellationToken.None);

        Assert.NotNull(bytes);
        Assert.Equal(body, bytes.Value.ToArray());
    }

    [Fact]
    public async Task A_body_longer_than_its_declared_length_is_still_capped()
    {
        var bytes = await BoundedBodyReader.ReadAsync(new MemoryStream(new byte[101]), maxBytes: 100, expectedLength: 10, CancellationToken.None);

        Assert.Null(bytes);
    }

    /// <summary>Yields zeros forever, in reads as large as the caller asks for, and counts them.</summary>
    private sealed class EndlessStream : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Clear(buffer, offset, count);
            BytesRead += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            buffer.Span.Clear();
            BytesRead += buffer.Length;
            return ValueTask.FromResult(buffer.Length);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
