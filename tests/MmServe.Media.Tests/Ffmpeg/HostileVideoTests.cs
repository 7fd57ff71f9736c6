using System.Buffers.Binary;
using System.Text;
using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>
/// Hostile and broken videos come back as client-safe errors naming the problem; nothing they point at is
/// read, no ffmpeg process is left behind, and no temp file stays on disk.
/// </summary>
[Collection(FfmpegCollection.Name)]
public sealed class HostileVideoTests(GeneratedMedia media) : IDisposable
{
    /// <summary>A colour no generated or golden clip uses; finding its bytes in output means the secret was read.</summary>
    private static readonly byte[] SecretColour = [0xC9, 0x0D, 0x4D];

    private readonly int _tempDirectoriesBefore = VideoFrameSamplerTests.LeftoverTempDirectories();

    public void Dispose()
    {
        ChildProcesses.AssertNoneLeft();
        Assert.Equal(_tempDirectoriesBefore, VideoFrameSamplerTests.LeftoverTempDirectories());
    }

    [FfmpegFact]
    public async Task Hls_playlist_naming_a_local_file_is_refused_and_the_file_never_read()
    {
        var playlist = HlsPlaylistFor(SecretVideo());

        var result = await Sample(playlist);

        AssertRejected(result, FfmpegErrors.InvalidVideo, "not in a supported container");
        Assert.DoesNotContain(Path.GetFileName(SecretVideo()), result.Error!.Message, StringComparison.Ordinal);
    }

    [FfmpegFact]
    public void Control_unhardened_ffmpeg_does_follow_that_playlist()
    {
        // Shows the playlist above is a real attack: plain "ffmpeg -i" returns the secret's pixels.
        string path = media.PathOf("control-playlist");
        File.WriteAllBytes(path, HlsPlaylistFor(SecretVideo()));

        var (_, stdout) = FfmpegCli.Run("-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1");

        Assert.True(ContainsColour(stdout, SecretColour, tolerance: 2), "control failed: the playlist was not followed");
    }

    [FfmpegFact]
    public async Task Ffconcat_script_is_refused_and_no_named_file_is_read()
    {
        string secretText = media.PathOf("secret.txt");
        string marker = "MMSERVE-SECRET-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(secretText, marker);
        var script = Encoding.UTF8.GetBytes($"ffconcat version 1.0\nfile {SecretVideo()}\nfile /etc/passwd\nfile {secretText}\n");

        var result = await Sample(script);

        AssertRejected(result, FfmpegErrors.InvalidVideo, "not in a supported container");
        Assert.DoesNotContain(marker, result.Error!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("root:", result.Error.Message, StringComparison.Ordinal);
    }

    [FfmpegFact]
    public async Task An_hour_long_video_is_rejected_by_its_duration_before_decoding()
    {
        var result = await Sample(media.HourLongMp4());

        // Had the duration check been skipped, the frame count (3600 > 1800) would have been the reason.
        AssertRejected(result, FfmpegErrors.VideoTooLarge, "lasts 3600 s; the limit is 60 s");
    }

    [FfmpegFact]
    public async Task A_16000x16000_frame_size_is_rejected_by_the_probe()
    {
        var result = await Sample(GifDeclaring(16000, 16000));

        AssertRejected(result, FfmpegErrors.VideoTooLarge, "16000x16000 pixels; the limit is 16777216 pixels per frame");
    }

    [FfmpegFact]
    public async Task Limits_name_themselves()
    {
        var clip = media.NumberedFramesMp4();

        AssertRejected(await Sample(clip, new VideoLimits { MaxFrames = 10 }, numFrames: 8), FfmpegErrors.VideoTooLarge, "24 frames; the limit is 10 frames");
        AssertRejected(await Sample(clip, new VideoLimits { MaxPixelsPerFrame = 255 }), FfmpegErrors.VideoTooLarge, "16x16 pixels; the limit is 255 pixels");
        AssertRejected(await Sample(clip, new VideoLimits { MaxSeconds = 0.5 }), FfmpegErrors.VideoTooLarge, "lasts 1 s; the limit is 0.5 s");
        AssertRejected(await Sample(clip, new VideoLimits { MaxBytes = 100 }), FfmpegErrors.VideoTooLarge, $"{clip.Length} bytes; the limit is 100 bytes");
    }

    [FfmpegFact]
    public async Task Random_bytes_are_rejected()
    {
        var noise = new byte[4096];
        new Random(1234).NextBytes(noise);

        AssertRejected(await Sample(noise), FfmpegErrors.InvalidVideo);
    }

    [FfmpegFact]
    public async Task Text_is_rejected()
    {
        AssertRejected(await Sample("This is a perfectly ordinary text file, not a video.\n"u8.ToArray()), FfmpegErrors.InvalidVideo);
    }

    [FfmpegFact]
    public async Task Empty_input_is_rejected()
    {
        AssertRejected(await Sample([]), FfmpegErrors.InvalidVideo, "empty");
    }

    [FfmpegFact]
    public async Task Truncated_mp4_is_rejected()
    {
        var whole = media.NumberedFramesMp4();
        var fastStart = media.NumberedFramesFastStartMp4();

        AssertRejected(await Sample(whole[..(whole.Length / 2)]), FfmpegErrors.InvalidVideo);
        AssertRejected(await Sample(fastStart[..(fastStart.Length / 2)]), FfmpegErrors.InvalidVideo);
    }

    [FfmpegFact]
    public async Task A_still_image_or_an_audio_only_file_is_not_a_video()
    {
        var png = await File.ReadAllBytesAsync(Path.Combine(TestPaths.Golden, "preprocessing", "image_0_64x64_RGB.png"));
        var m4a = media.Sine("audio-only.m4a", 16000, 0.5, "-c:a", "aac");

        AssertRejected(await Sample(png), FfmpegErrors.InvalidVideo, "not in a supported container");
        AssertRejected(await Sample(m4a), FfmpegErrors.InvalidVideo, "no video stream");
    }

    [FfmpegFact]
    public async Task A_decode_past_its_time_limit_is_killed_and_reported_as_a_timeout()
    {
        var result = await Sample(media.NumberedFramesMp4(), new VideoLimits { TimeoutSeconds = 0.05 });

        AssertRejected(result, FfmpegErrors.MediaTimeout, "limit of 0.05 s");
        ChildProcesses.AssertNoneLeft();
    }

    [FfmpegFact]
    public async Task Cancellation_kills_the_tools_and_throws()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(1));
        var sampler = new VideoFrameSampler(TestFfmpeg.RequireTools());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sampler.SampleAsync(media.NumberedFramesMp4(), 8, cancellation.Token));

        ChildProcesses.AssertNoneLeft();
    }

    private static void AssertRejected<T>(MediaResult<T> result, string code, string? messagePart = null)
    {
        Assert.False(result.IsSuccess, "hostile input was accepted");
        Assert.Equal(code, result.Error.Code);
        if (messagePart is not null)
        {
            Assert.Contains(messagePart, result.Error.Message, StringComparison.Ordinal);
        }
    }

    private static bool ContainsColour(byte[] rgb, byte[] colour, int tolerance)
    {
        for (int i = 0; i + 2 < rgb.Length; i += 3)
        {
            if (Math.Abs(rgb[i] - colour[0]) <= tolerance && Math.Abs(rgb[i + 1] - colour[1]) <= tolerance && Math.Abs(rgb[i + 2] - colour[2]) <= tolerance)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A minimal GIF: the logical screen and image descriptor declare the given size, but the file is a few
    /// dozen bytes. Decoding it would allocate the whole canvas.
    /// </summary>
    private static byte[] GifDeclaring(int width, int height)
    {
        var gif = new List<byte>("GIF89a"u8.ToArray());
        gif.AddRange(UInt16(width));
        gif.AddRange(UInt16(height));
        gif.AddRange([0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF]);   // 2-colour global palette
        gif.Add(0x2C);
        gif.AddRange([0, 0, 0, 0]);
        gif.AddRange(UInt16(width));
        gif.AddRange(UInt16(height));
        gif.AddRange([0, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]);     // one LZW block, then the trailer
        return [.. gif];
    }

    private static byte[] UInt16(int value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value);
        return bytes;
    }

    private static byte[] HlsPlaylistFor(string segmentPath) =>
        Encoding.UTF8.GetBytes($"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{segmentPath}\n#EXT-X-ENDLIST\n");

    private async Task<MediaResult<IReadOnlyList<Media.Images.RgbImage>>> Sample(byte[] bytes, VideoLimits? limits = null, int numFrames = 8)
    {
        var result = await new VideoFrameSampler(TestFfmpeg.RequireTools(), limits).SampleAsync(bytes, numFrames);
        if (result.IsSuccess)
        {
            Assert.All(result.Value, frame => Assert.False(ContainsColour(frame.Pixels.ToArray(), SecretColour, tolerance: 2), "secret pixels leaked"));
        }

        return result;
    }

    /// <summary>A local MPEG-TS file in the secret colour: what a playlist or script would try to pull in.</summary>
    private string SecretVideo()
    {
        string path = media.PathOf("secret.ts");
        if (!File.Exists(path))
        {
            FfmpegCli.Make(path, "-f", "lavfi", "-i", "color=c=0xC90D4D:s=16x16:r=4:d=1", "-c:v", "libx264rgb", "-qp", "0", "-pix_fmt", "rgb24", "-f", "mpegts");
        }

        return path;
    }
}
