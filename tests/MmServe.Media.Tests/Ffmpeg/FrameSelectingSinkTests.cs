using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

public sealed class FrameSelectingSinkTests
{
    private const int FrameBytes = 12;

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(FrameBytes)]
    [InlineData(FrameBytes + 1)]
    [InlineData(1000)]
    public void Keeps_exactly_the_wanted_frames_whatever_the_chunking(int chunkBytes)
    {
        var stream = Frames(10);
        var sink = new FrameSelectingSink(FrameBytes, [1, 1, 4, 9], maxFrames: 100);

        for (int offset = 0; offset < stream.Length; offset += chunkBytes)
        {
            Assert.True(sink.Accept(stream.AsSpan(offset, Math.Min(chunkBytes, stream.Length - offset))));
        }

        Assert.Equal(10, sink.FrameCount);
        Assert.False(sink.EndsMidFrame);
        foreach (int index in new[] { 1, 4, 9 })
        {
            Assert.Equal(Enumerable.Repeat((byte)index, FrameBytes), sink.Frame(index)!);
        }

        Assert.Null(sink.Frame(0));
        Assert.Null(sink.Frame(5));
    }

    [Fact]
    public void Asks_to_stop_once_past_the_frame_limit()
    {
        var sink = new FrameSelectingSink(FrameBytes, [0], maxFrames: 3);

        Assert.True(sink.Accept(Frames(3)));
        Assert.False(sink.Accept(Frames(1)));
        Assert.Equal(4, sink.FrameCount);
    }

    [Fact]
    public void Reports_a_stream_that_ends_inside_a_frame()
    {
        var sink = new FrameSelectingSink(FrameBytes, [0], maxFrames: 3);

        sink.Accept(Frames(2).AsSpan(0, FrameBytes + 3));

        Assert.Equal(1, sink.FrameCount);
        Assert.True(sink.EndsMidFrame);
    }

    /// <summary>Frame n is FrameBytes bytes of value n.</summary>
    private static byte[] Frames(int count) =>
        [.. Enumerable.Range(0, count).SelectMany(n => Enumerable.Repeat((byte)n, FrameBytes))];
}
