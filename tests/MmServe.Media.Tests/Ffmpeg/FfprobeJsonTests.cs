using System.Text;
using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

public sealed class FfprobeJsonTests
{
    [Fact]
    public void Reads_the_fields_the_limits_need_and_skips_cover_art()
    {
        const string json = """
            {
              "streams": [
                { "index": 0, "codec_type": "video", "codec_name": "mjpeg", "width": 600, "height": 600, "disposition": { "attached_pic": 1 } },
                { "index": 1, "codec_type": "audio", "codec_name": "aac", "sample_rate": "44100", "channels": 2, "duration": "N/A" },
                { "index": 2, "codec_type": "video", "codec_name": "h264", "width": 64, "height": 48, "nb_frames": "8", "nb_read_packets": "9", "duration": "1.500000" }
              ],
              "format": { "format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "2.000000" }
            }
            """;

        var probe = Parse(json, FfmpegMediaKind.Video)!;

        Assert.Equal("mov", probe.Demuxer);
        Assert.Equal(2.0, probe.DurationSeconds);
        Assert.Equal(new VideoStreamInfo(2, "h264", 64, 48, 8, 9, 1.5), probe.Video);
        Assert.Equal(new AudioStreamInfo(1, "aac", 44100, 2, null), probe.Audio);
        Assert.Equal(2.0, probe.LongestVideoDuration);
    }

    [Theory]
    [InlineData("""{ "format": { "format_name": "hls" }, "streams": [] }""")]
    [InlineData("""{ "format": { "format_name": "concat" } }""")]
    [InlineData("""{ "format": {} }""")]
    [InlineData("""{ "streams": [] }""")]
    [InlineData("""[1, 2]""")]
    [InlineData("""{ "format": { "format_name": "gif" }, "streams": [ 7 ] }""")]
    [InlineData("""{ "format": { "format_name": "gif" """)]
    [InlineData("")]
    public void Anything_unexpected_fails_the_probe(string json)
    {
        Assert.Null(Parse(json, FfmpegMediaKind.Video));
    }

    [Fact]
    public void Negative_or_non_numeric_values_count_as_unknown()
    {
        const string json = """
            {
              "streams": [ { "index": 0, "codec_type": "video", "codec_name": "gif", "width": -5, "height": "x", "nb_read_packets": "-3", "duration": "-1" } ],
              "format": { "format_name": "gif", "duration": "inf" }
            }
            """;

        var probe = Parse(json, FfmpegMediaKind.Video)!;

        Assert.Equal(new VideoStreamInfo(0, "gif", 0, 0, null, null, null), probe.Video);
        Assert.Null(probe.DurationSeconds);
    }

    private static MediaProbeResult? Parse(string json, FfmpegMediaKind kind) => FfprobeJson.Parse(Encoding.UTF8.GetBytes(json), kind);
}
