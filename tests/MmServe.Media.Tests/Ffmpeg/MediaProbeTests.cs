using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

[Collection(FfmpegCollection.Name)]
public sealed class MediaProbeTests(GeneratedMedia media)
{
    [FfmpegFact]
    public async Task Describes_the_golden_video()
    {
        var probe = new MediaProbe(TestFfmpeg.RequireTools());
        var bytes = await File.ReadAllBytesAsync(Path.Combine(TestPaths.Golden, "preprocessing", "video_0.mp4"));

        var result = await probe.ProbeAsync(bytes, FfmpegMediaKind.Video);

        Assert.True(result.IsSuccess, result.Error?.Message);
        Assert.Equal("mov,mp4,m4a,3gp,3g2,mj2", result.Value.FormatName);
        Assert.Equal("mov", result.Value.Demuxer);
        Assert.Equal(1.0, result.Value.DurationSeconds);
        Assert.Equal(new VideoStreamInfo(0, "h264", 64, 64, 8, 8, 1.0), result.Value.Video);
        Assert.Null(result.Value.Audio);
        ChildProcesses.AssertNoneLeft();
    }

    [FfmpegFact]
    public async Task Describes_an_audio_clip()
    {
        var probe = new MediaProbe(TestFfmpeg.RequireTools());
        var flac = media.Sine("probe.flac", 22050, 0.5, "-c:a", "flac");

        var result = await probe.ProbeAsync(flac, FfmpegMediaKind.Audio);

        Assert.True(result.IsSuccess, result.Error?.Message);
        Assert.Equal("flac", result.Value.Demuxer);
        Assert.Equal(new AudioStreamInfo(0, "flac", 22050, 1, 0.5), result.Value.Audio);
        Assert.Null(result.Value.Video);
    }

    [FfmpegFact]
    public async Task Refuses_a_container_that_is_not_whitelisted_for_the_kind()
    {
        var probe = new MediaProbe(TestFfmpeg.RequireTools());
        var ogg = media.Sine("probe.ogg", 16000, 0.5, "-c:a", "libvorbis");

        var asAudio = await probe.ProbeAsync(ogg, FfmpegMediaKind.Audio);
        var asVideo = await probe.ProbeAsync(ogg, FfmpegMediaKind.Video);

        Assert.True(asAudio.IsSuccess, asAudio.Error?.Message);
        Assert.False(asVideo.IsSuccess);
        Assert.Equal(FfmpegErrors.InvalidVideo, asVideo.Error.Code);
    }
}
