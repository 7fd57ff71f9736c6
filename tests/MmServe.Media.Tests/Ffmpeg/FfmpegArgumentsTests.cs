using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>The argument lists keep the hardening in place: forced whitelisted demuxer, file-only input, pipe-only output.</summary>
public sealed class FfmpegArgumentsTests : IDisposable
{
    private static readonly VideoStreamInfo Video = new(0, "h264", 64, 48, 8, 8, 1.0);
    private static readonly AudioStreamInfo Audio = new(1, "aac", 16000, 2, 1.0);

    private readonly TempMediaFile _input = TempMediaFile.WriteAsync(new byte[] { 1 }, CancellationToken.None).GetAwaiter().GetResult();

    public void Dispose() => _input.Dispose();

    [Fact]
    public void The_first_probe_only_allows_whitelisted_demuxers_and_decodes_nothing()
    {
        var arguments = FfmpegArguments.Identify(_input, FfmpegMediaKind.Video, decodeStreamInfo: false, 4096L * 4096);

        AssertPair(arguments, "-format_whitelist", "mov,matroska,gif");
        AssertPair(arguments, "-protocol_whitelist", "file");
        Assert.Contains("-nofind_stream_info", arguments);
        Assert.Equal(_input.Url, arguments[^1]);
        Assert.StartsWith("file:/", _input.Url);
    }

    [Fact]
    public void Video_decoding_forces_the_demuxer_and_pins_the_frame_layout()
    {
        var arguments = FfmpegArguments.DecodeVideo(_input, "mov", Video, 4096L * 4096, maxFrames: 1800);

        int inputAt = arguments.ToList().IndexOf("-i");
        Assert.True(inputAt > 0);
        var inputOptions = arguments.Take(inputAt).ToList();
        AssertPair(inputOptions, "-protocol_whitelist", "file");
        AssertPair(inputOptions, "-f", "mov");
        AssertPair(inputOptions, "-enable_drefs", "0");
        Assert.Contains("-nostdin", inputOptions);
        AssertPair(inputOptions, "-threads", "1");
        AssertPair(inputOptions, "-filter_threads", "1");
        Assert.Equal(_input.Url, arguments[inputAt + 1]);
        AssertPair(arguments, "-map", "0:0");
        AssertPair(arguments, "-vf", "scale=64:48,format=rgb24");
        AssertPair(arguments, "-frames:v", "1801");
        Assert.Equal(["-f", "rawvideo", "-protocol_whitelist", "pipe", "pipe:1"], arguments.TakeLast(5));
    }

    [Fact]
    public void Audio_decoding_averages_the_channels_at_the_source_rate()
    {
        var arguments = FfmpegArguments.DecodeAudio(_input, "mov", Audio);

        AssertPair(arguments.Take(arguments.ToList().IndexOf("-i")).ToList(), "-threads", "1");
        AssertPair(arguments, "-af", "pan=mono|c0<c0+c1");
        AssertPair(arguments, "-ar", "16000");
        AssertPair(arguments, "-map", "0:1");
        Assert.Equal(["-f", "f32le", "-protocol_whitelist", "pipe", "pipe:1"], arguments.TakeLast(5));
    }

    [Theory]
    [InlineData("hls")]
    [InlineData("concat")]
    [InlineData("lavfi")]
    [InlineData("image2")]
    [InlineData("mov,mp4")]
    public void A_demuxer_off_the_whitelist_cannot_be_forced(string demuxer)
    {
        Assert.Throws<ArgumentException>(() => FfmpegArguments.DecodeVideo(_input, demuxer, Video, 4096L * 4096, 1800));
    }

    [Theory]
    [InlineData("mov,mp4,m4a,3gp,3g2,mj2", FfmpegMediaKind.Video, "mov")]
    [InlineData("matroska,webm", FfmpegMediaKind.Video, "matroska")]
    [InlineData("gif", FfmpegMediaKind.Video, "gif")]
    [InlineData("ogg", FfmpegMediaKind.Audio, "ogg")]
    [InlineData("mov,mp4,m4a,3gp,3g2,mj2", FfmpegMediaKind.Audio, "mov")]
    [InlineData("ogg", FfmpegMediaKind.Video, null)]
    [InlineData("hls", FfmpegMediaKind.Video, null)]
    [InlineData("concat", FfmpegMediaKind.Audio, null)]
    [InlineData("image2", FfmpegMediaKind.Video, null)]
    [InlineData("gif_pipe", FfmpegMediaKind.Video, null)]
    public void Reported_formats_map_to_whitelisted_demuxers_only(string formatName, FfmpegMediaKind kind, string? expected)
    {
        Assert.Equal(expected, FfmpegWhitelists.ResolveDemuxer(formatName, kind));
    }

    private static void AssertPair(IReadOnlyList<string> arguments, string option, string value)
    {
        var list = arguments.ToList();
        int at = list.IndexOf(option);
        Assert.True(at >= 0 && at + 1 < list.Count, $"{option} missing from: {string.Join(' ', arguments)}");
        Assert.Equal(value, list[at + 1]);
    }
}
