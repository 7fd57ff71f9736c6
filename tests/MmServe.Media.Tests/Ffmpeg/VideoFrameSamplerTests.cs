using MmServe.Media.Ffmpeg;
using MmServe.Media.Images;

namespace MmServe.Media.Tests.Ffmpeg;

[Collection(FfmpegCollection.Name)]
public sealed class VideoFrameSamplerTests(GeneratedMedia media)
{
    private static string Preprocessing => Path.Combine(TestPaths.Golden, "preprocessing");

    public static TheoryData<string> GoldenChatVideos() =>
        [.. Directory.GetFiles(Path.Combine(TestPaths.Golden, "media"), "*.mp4").Select(Path.GetFileName).OfType<string>().Order()];

    [FfmpegFact]
    public async Task Golden_video_gives_exactly_the_reference_frames()
    {
        var expected = Npy.Read(Path.Combine(Preprocessing, "video_0.frames.npy"));
        Assert.Equal([8L, 64, 64, 3], expected.Shape);

        var frames = await Sample(await File.ReadAllBytesAsync(Path.Combine(Preprocessing, "video_0.mp4")), 8);

        Assert.Equal(8, frames.Count);
        var expectedBytes = expected.AsBytes();
        for (int i = 0; i < frames.Count; i++)
        {
            Assert.Equal((64, 64), (frames[i].Width, frames[i].Height));
            Assert.True(
                expectedBytes.AsSpan(i * 64 * 64 * 3, 64 * 64 * 3).SequenceEqual(frames[i].Pixels.Span),
                $"frame {i} differs from video_0.frames.npy");
        }

        ChildProcesses.AssertNoneLeft();
    }

    [FfmpegTheory]
    [MemberData(nameof(GoldenChatVideos))]
    public async Task Golden_chat_videos_sample_to_the_bundle_frame_count(string fileName)
    {
        var frames = await Sample(await File.ReadAllBytesAsync(Path.Combine(TestPaths.Golden, "media", fileName)), 8);

        Assert.Equal(8, frames.Count);
        Assert.All(frames, frame => Assert.Equal((64, 64), (frame.Width, frame.Height)));
    }

    [FfmpegTheory]
    [InlineData(8, new[] { 1, 4, 7, 10, 13, 16, 19, 22 })]
    [InlineData(5, new[] { 2, 7, 12, 16, 21 })]
    [InlineData(1, new[] { 12 })]
    [InlineData(24, new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 })]
    public async Task Picks_the_uniformly_spaced_frames_of_a_24_frame_clip(int numFrames, int[] expectedIndices)
    {
        var frames = await Sample(media.NumberedFramesMp4(), numFrames);

        Assert.Equal(expectedIndices, frames.Select(FrameNumber));
    }

    [FfmpegFact]
    public async Task A_clip_shorter_than_the_request_repeats_frames()
    {
        var frames = await Sample(media.NumberedFramesMp4(frames: 3), 8);

        Assert.Equal([0, 0, 0, 1, 1, 2, 2, 2], frames.Select(FrameNumber));
    }

    [FfmpegFact]
    public async Task Sampling_follows_the_decoded_frames_when_they_differ_from_the_packets()
    {
        var cut = media.EditListCutMp4();
        var probe = await new MediaProbe(TestFfmpeg.RequireTools()).ProbeAsync(cut, FfmpegMediaKind.Video);
        Assert.Equal(24, probe.Value?.Video?.PacketCount);   // the premise: more packets than frames

        var frames = await Sample(cut, 4);

        // Uniform over the 12 frames actually shown (12..23), not over 24 packets.
        Assert.Equal([13, 16, 19, 22], frames.Select(FrameNumber));
    }

    [FfmpegFact]
    public async Task Moov_first_mp4_webm_and_gif_are_decoded_too()
    {
        Assert.Equal([1, 4, 7, 10, 13, 16, 19, 22], (await Sample(media.NumberedFramesFastStartMp4(), 8)).Select(FrameNumber));

        // VP8 and the GIF palette are lossy: check the frame count and that the frames come in order.
        var webm = await Sample(media.NumberedFramesWebm(), 4);
        var gif = await Sample(media.NumberedFramesGif(), 3);
        Assert.Equal(4, webm.Count);
        Assert.Equal(3, gif.Count);
        Assert.All(webm.Concat(gif), frame => Assert.Equal((16, 16), (frame.Width, frame.Height)));
        Assert.True(webm[0].Pixels.Span[0] < webm[3].Pixels.Span[0], "webm frames out of order");
        Assert.True(gif[0].Pixels.Span[0] < gif[2].Pixels.Span[0], "gif frames out of order");
    }

    [FfmpegFact]
    public async Task Temp_files_are_removed_after_success_and_failure()
    {
        int before = LeftoverTempDirectories();

        await Sample(media.NumberedFramesMp4(), 2);
        var failed = await new VideoFrameSampler(TestFfmpeg.RequireTools()).SampleAsync("not a video"u8.ToArray(), 2);

        Assert.False(failed.IsSuccess);
        Assert.Equal(before, LeftoverTempDirectories());
    }

    [Fact]
    public async Task A_frame_count_outside_the_limits_is_a_programming_error()
    {
        var sampler = new VideoFrameSampler(FfmpegTools.Disabled("not needed"), new VideoLimits { MaxFrames = 10 });

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => sampler.SampleAsync(new byte[] { 1 }, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => sampler.SampleAsync(new byte[] { 1 }, 11));
    }

    [Fact]
    public void Out_of_range_limits_fail_at_construction()
    {
        var tools = FfmpegTools.Disabled("not needed");

        Assert.Throws<ArgumentOutOfRangeException>(() => new VideoFrameSampler(tools, new VideoLimits { MaxSeconds = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VideoFrameSampler(tools, new VideoLimits { TimeoutSeconds = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VideoFrameSampler(tools, new VideoLimits { MaxPixelsPerFrame = 1L << 40 }));
    }

    /// <summary>This process's temp directories only: other test runs on the machine may use the component too.</summary>
    internal static int LeftoverTempDirectories() => Directory.GetDirectories(Path.GetTempPath(), TempMediaFile.DirectoryPrefix + "*").Length;

    /// <summary>Generated frames have red = 10·n and green = 255 − 10·n in every pixel; n from both, checked against each other.</summary>
    private static int FrameNumber(RgbImage frame)
    {
        var pixel = frame.Pixels.Span;
        Assert.Equal(255 - pixel[0], pixel[1]);
        Assert.Equal(0, pixel[0] % 10);
        return pixel[0] / 10;
    }

    private static async Task<IReadOnlyList<RgbImage>> Sample(byte[] video, int numFrames)
    {
        var result = await new VideoFrameSampler(TestFfmpeg.RequireTools()).SampleAsync(video, numFrames);
        Assert.True(result.IsSuccess, result.Error?.Message);
        return result.Value;
    }
}
