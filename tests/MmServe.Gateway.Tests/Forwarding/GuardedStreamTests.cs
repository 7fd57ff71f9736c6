using System.Buffers.Binary;
using System.Text;
using MmServe.Gateway.Discovery;
using MmServe.Gateway.Forwarding;
using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Tests.Forwarding;

/// <summary>A worker's stream that breaks: whole messages only, then a clean end the client can read.</summary>
public sealed class GuardedStreamTests
{
    /// <summary>Hands out the given chunks one read at a time, then fails (or ends).</summary>
    private sealed class ChunkedStream(IEnumerable<byte[]> chunks, bool failAtEnd) : Stream
    {
        private readonly Queue<byte[]> _chunks = new(chunks);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_chunks.TryDequeue(out var chunk))
            {
                chunk.CopyTo(buffer);
                return ValueTask.FromResult(chunk.Length);
            }

            return failAtEnd ? ValueTask.FromException<int>(new HttpIOException(HttpRequestError.ResponseEnded, "The response ended prematurely.")) : ValueTask.FromResult(0);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static ForwardingAttempt Attempt(bool grpc = false) =>
        new(new Worker(WorkerAddress.Create("http://10.0.0.1:8080", null)), grpc, canRetry: true, workerHeader: false);

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[7]; // smaller than an event: hand-out in pieces must work
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            copy.Write(buffer, 0, read);
        }

        return copy.ToArray();
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Sse_BrokenMidEvent_DropsThePartialEvent_AndEndsWithAnErrorEvent()
    {
        var attempt = Attempt();
        var inner = new ChunkedStream([Utf8("data: {\"a\":1}\n\ndata: {\"b\""), Utf8(":2}\n\ndata: {\"c\":")], failAtEnd: true);

        var text = Encoding.UTF8.GetString(await ReadAllAsync(new GuardedStream(inner, StreamFraming.ServerSentEvents, attempt)));

        Assert.Equal(
            "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: {\"error\":{\"message\":\"The worker serving this stream failed; the answer is incomplete. Retry the request.\",\"type\":\"server_error\",\"param\":null,\"code\":\"worker_failed\"}}\n\n",
            text);
        Assert.IsType<HttpIOException>(attempt.StreamFailure);
    }

    [Fact]
    public async Task Sse_ThatEndsCleanly_PassesThroughUnchanged()
    {
        var attempt = Attempt();
        var body = "data: {\"a\":1}\r\n\r\ndata: [DONE]\n\n";
        var inner = new ChunkedStream([Utf8(body[..5]), Utf8(body[5..20]), Utf8(body[20..])], failAtEnd: false);

        Assert.Equal(body, Encoding.UTF8.GetString(await ReadAllAsync(new GuardedStream(inner, StreamFraming.ServerSentEvents, attempt))));
        Assert.Null(attempt.StreamFailure);
    }

    [Fact]
    public async Task BrokenBeforeAnyWholeMessage_Throws_SoTheRequestCanBeRetried()
    {
        var attempt = Attempt();
        var inner = new ChunkedStream([Utf8("data: {\"a\"")], failAtEnd: true);

        await Assert.ThrowsAsync<HttpIOException>(() => ReadAllAsync(new GuardedStream(inner, StreamFraming.ServerSentEvents, attempt)));
        Assert.False(attempt.BodyStarted);
    }

    [Fact]
    public async Task Grpc_BrokenMidMessage_EndsAfterTheLastWholeMessage_AndFlagsTheFailure()
    {
        var attempt = Attempt(grpc: true);
        var first = Frame(300);
        var second = Frame(20);
        var third = Frame(50);
        var inner = new ChunkedStream([first[..100], [.. first[100..], .. second[..3]], [.. second[3..], .. third[..40]]], failAtEnd: true);

        var bytes = await ReadAllAsync(new GuardedStream(inner, StreamFraming.Grpc, attempt));

        Assert.Equal([.. first, .. second], bytes);
        Assert.NotNull(attempt.StreamFailure);
    }

    [Fact]
    public async Task Grpc_AMessageLargerThanTheBuffer_IsHeldWhole()
    {
        var attempt = Attempt(grpc: true);
        var big = Frame(100_000);
        var chunks = big.Chunk(4096).ToList();

        var bytes = await ReadAllAsync(new GuardedStream(new ChunkedStream(chunks, failAtEnd: false), StreamFraming.Grpc, attempt));

        Assert.Equal(big, bytes);
    }

    [Theory]
    [InlineData("text/event-stream", nameof(StreamFraming.ServerSentEvents))]
    [InlineData("application/grpc", nameof(StreamFraming.Grpc))]
    [InlineData("application/grpc+proto", nameof(StreamFraming.Grpc))]
    [InlineData("application/json", nameof(StreamFraming.None))]
    [InlineData(null, nameof(StreamFraming.None))]
    public void Framing_FollowsTheContentType(string? mediaType, string expected) =>
        Assert.Equal(Enum.Parse<StreamFraming>(expected), StreamFramings.For(mediaType));

    private static byte[] Frame(int payloadLength)
    {
        var frame = new byte[5 + payloadLength];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payloadLength);
        for (int i = 5; i < frame.Length; i++)
        {
            frame[i] = (byte)i;
        }

        return frame;
    }
}
