using System.Text;
using MmServe.Media.Audio;
using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

[Collection(FfmpegCollection.Name)]
public sealed class FfmpegAudioDecoderTests(GeneratedMedia media) : IDisposable
{
    private const double ToneHz = 440;

    private readonly int _tempDirectoriesBefore = VideoFrameSamplerTests.LeftoverTempDirectories();

    public void Dispose()
    {
        ChildProcesses.AssertNoneLeft();
        Assert.Equal(_tempDirectoriesBefore, VideoFrameSamplerTests.LeftoverTempDirectories());
    }

    /// <summary>file, source rate, codec, muxer, expected decoded rate, allowed length error in samples.</summary>
    public static TheoryData<string, int, string, string, int, int> Formats() => new()
    {
        { "tone.flac", 44100, "flac", "flac", 44100, 0 },
        { "tone.ogg", 16000, "libvorbis", "ogg", 16000, 0 },
        { "tone.opus.ogg", 48000, "libopus", "ogg", 48000, 0 },
        { "tone.webm", 48000, "libopus", "webm", 48000, 0 },

        // AAC pads the last frame to 1024 samples and ffmpeg 5.1 does not trim the end padding.
        { "tone.m4a", 16000, "aac", "ipod", 16000, 1024 },
        { "tone.mp3", 16000, "libmp3lame", "mp3", 16000, 0 },
    };

    [FfmpegTheory]
    [MemberData(nameof(Formats))]
    public async Task A_sine_decodes_to_mono_at_its_rate_length_and_frequency(string file, int rate, string codec, string muxer, int expectedRate, int lengthSlack)
    {
        var encoded = media.Sine(file, rate, 1.0, "-c:a", codec, "-f", muxer);

        var audio = await Decode(encoded, maxSeconds: 2);

        Assert.Equal(expectedRate, audio.SampleRate);
        Assert.Equal(1, audio.SourceChannels);
        Assert.InRange(audio.Samples.Length, expectedRate, expectedRate + lengthSlack);
        Assert.InRange(FrequencyOf(audio), ToneHz * 0.99, ToneHz * 1.01);
        Assert.InRange(Peak(audio), 0.11, 0.14);   // lavfi's sine has amplitude 1/8
    }

    [FfmpegFact]
    public async Task Stereo_is_averaged_not_summed()
    {
        var audio = await Decode(media.StereoSineFlac(), maxSeconds: 2);

        Assert.Equal(2, audio.SourceChannels);
        Assert.Equal(16000, audio.Samples.Length);

        // (0.5 + 0.25) / 2; ffmpeg's default -ac 1 matrix would give (0.5 + 0.25) / √2 ≈ 0.53.
        Assert.InRange(Peak(audio), 0.37, 0.38);
    }

    [FfmpegFact]
    public async Task A_clip_longer_than_the_limit_is_rejected_by_the_probe()
    {
        var flac = media.Sine("three-seconds.flac", 16000, 3.0, "-c:a", "flac");

        var result = await new FfmpegAudioDecoder(TestFfmpeg.RequireTools()).DecodeAsync(flac, maxSeconds: 2);

        AssertRejected(result, MediaErrorCodes.AudioTooLarge, "lasts 3 s; the limit is 2 s");
    }

    [FfmpegFact]
    public async Task A_header_that_understates_the_length_is_stopped_by_the_output_cap()
    {
        var honest = media.Sine("five-seconds.flac", 8000, 5.0, "-c:a", "flac");
        var lying = WithFlacTotalSamples(honest, 8000);
        var decoder = new FfmpegAudioDecoder(TestFfmpeg.RequireTools());

        var probe = await new MediaProbe(TestFfmpeg.RequireTools()).ProbeAsync(lying, FfmpegMediaKind.Audio);
        var result = await decoder.DecodeAsync(lying, maxSeconds: 2);

        Assert.Equal(1.0, probe.Value?.Audio?.DurationSeconds);   // the lie is believed by the probe …
        AssertRejected(result, MediaErrorCodes.AudioTooLarge, "understates");   // … but not by the decode
    }

    [FfmpegFact]
    public async Task An_mp3_that_is_text_is_rejected()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("This is an mp3, honestly. ", 200)));

        AssertRejected(await new FfmpegAudioDecoder(TestFfmpeg.RequireTools()).DecodeAsync(text, 30), MediaErrorCodes.InvalidAudio);
    }

    [FfmpegFact]
    public async Task Playlists_video_only_files_empty_and_oversized_input_are_rejected()
    {
        var decoder = new FfmpegAudioDecoder(TestFfmpeg.RequireTools());
        var playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n/etc/passwd\n#EXT-X-ENDLIST\n"u8.ToArray();
        var flac = media.Sine("small.flac", 16000, 0.5, "-c:a", "flac");

        AssertRejected(await decoder.DecodeAsync(playlist, 30), MediaErrorCodes.InvalidAudio, "not in a supported container");
        AssertRejected(await decoder.DecodeAsync(media.NumberedFramesMp4(), 30), MediaErrorCodes.InvalidAudio, "no audio stream");
        AssertRejected(await decoder.DecodeAsync(Array.Empty<byte>(), 30), MediaErrorCodes.InvalidAudio, "empty");
        AssertRejected(
            await new FfmpegAudioDecoder(TestFfmpeg.RequireTools(), new FfmpegAudioLimits { MaxBytes = 100 }).DecodeAsync(flac, 30),
            MediaErrorCodes.AudioTooLarge,
            "the limit is 100 bytes");
    }

    [FfmpegFact]
    public async Task Sample_rate_and_channel_limits_name_themselves()
    {
        var tools = TestFfmpeg.RequireTools();
        var flac44k = media.Sine("tone.flac", 44100, 1.0, "-c:a", "flac", "-f", "flac");

        AssertRejected(
            await new FfmpegAudioDecoder(tools, new FfmpegAudioLimits { MaxSampleRate = 16000 }).DecodeAsync(flac44k, 30),
            MediaErrorCodes.UnsupportedAudioFormat,
            "44100 Hz; the limit is 16000 Hz");
        AssertRejected(
            await new FfmpegAudioDecoder(tools, new FfmpegAudioLimits { MaxChannels = 1 }).DecodeAsync(media.StereoSineFlac(), 30),
            MediaErrorCodes.UnsupportedAudioFormat,
            "2 channels; the limit is 1 channels");
    }

    [Fact]
    public async Task A_duration_limit_that_is_not_positive_is_a_programming_error()
    {
        var decoder = new FfmpegAudioDecoder(FfmpegTools.Disabled("not needed"));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => decoder.DecodeAsync(new byte[] { 1 }, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => decoder.DecodeAsync(new byte[] { 1 }, double.NaN));
    }

    /// <summary>Rewrites the 36-bit total-samples field of FLAC's STREAMINFO, which is where the duration comes from.</summary>
    private static byte[] WithFlacTotalSamples(byte[] flac, long totalSamples)
    {
        Assert.Equal("fLaC"u8.ToArray(), flac[..4]);
        var patched = (byte[])flac.Clone();
        const int Field = 8 + 13;   // "fLaC", block header, then 13 bytes in: low 4 bits of this byte + 4 bytes
        patched[Field] = (byte)((patched[Field] & 0xF0) | (int)((totalSamples >> 32) & 0x0F));
        patched[Field + 1] = (byte)(totalSamples >> 24);
        patched[Field + 2] = (byte)(totalSamples >> 16);
        patched[Field + 3] = (byte)(totalSamples >> 8);
        patched[Field + 4] = (byte)totalSamples;
        return patched;
    }

    /// <summary>Frequency from upward zero crossings over the middle of the clip, away from codec edge effects.</summary>
    private static double FrequencyOf(DecodedAudio audio)
    {
        var samples = audio.Samples.Span;
        int start = audio.SampleRate / 10;
        int end = samples.Length - (audio.SampleRate / 10);
        int first = -1;
        int last = -1;
        int crossings = 0;
        for (int i = start + 1; i < end; i++)
        {
            if (samples[i - 1] < 0 && samples[i] >= 0)
            {
                first = first < 0 ? i : first;
                last = i;
                crossings++;
            }
        }

        Assert.True(crossings > 10, $"only {crossings} zero crossings");
        return (crossings - 1) * (double)audio.SampleRate / (last - first);
    }

    private static double Peak(DecodedAudio audio)
    {
        var samples = audio.Samples.Span;
        int margin = audio.SampleRate / 10;
        float peak = 0;
        foreach (float sample in samples[margin..^margin])
        {
            peak = Math.Max(peak, Math.Abs(sample));
        }

        return peak;
    }

    private static void AssertRejected<T>(MediaResult<T> result, string code, string? messagePart = null)
    {
        Assert.False(result.IsSuccess, "bad input was accepted");
        Assert.Equal(code, result.Error.Code);
        if (messagePart is not null)
        {
            Assert.Contains(messagePart, result.Error.Message, StringComparison.Ordinal);
        }
    }

    private static async Task<DecodedAudio> Decode(byte[] encoded, double maxSeconds)
    {
        var result = await new FfmpegAudioDecoder(TestFfmpeg.RequireTools()).DecodeAsync(encoded, maxSeconds);
        Assert.True(result.IsSuccess, result.Error?.Message);
        return result.Value;
    }
}
