using System.Text;
using MmServe.Media;
using MmServe.Media.Audio;

namespace MmServe.Media.Tests.Audio;

/// <summary>
/// MP3 through NLayer: real clips made by ffmpeg/LAME (Audio/Fixtures), and hostile bytes. The fixtures are
/// sines, so the decoded pitch can be checked without a reference decoder.
/// </summary>
public sealed class Mp3DecoderTests
{
    private static readonly Mp3Decoder Decoder = new(new AudioLimits { MaxSeconds = 30 });

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Audio", "Fixtures", name));

    [Fact]
    public void Mono_16k_clip_decodes_to_its_rate_length_and_pitch()
    {
        var result = Decoder.Decode(Fixture("sine440_16k_mono.mp3"));

        Assert.True(result.IsSuccess, result.ToString());
        var audio = result.Value;
        Assert.Equal(16000, audio.SampleRate);
        Assert.Equal(1, audio.SourceChannels);
        Assert.InRange(audio.DurationSeconds, 0.95, 1.2); // 1 s plus the encoder's priming and padding frames
        Assert.Equal(440, DominantFrequency(audio), tolerance: 8);
    }

    [Fact]
    public void Stereo_44k_clip_is_down_mixed_to_mono()
    {
        var result = Decoder.Decode(Fixture("sine1k_44k_stereo.mp3"));

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(44100, result.Value.SampleRate);
        Assert.Equal(2, result.Value.SourceChannels);
        Assert.InRange(result.Value.DurationSeconds, 0.95, 1.2);
        Assert.Equal(1000, DominantFrequency(result.Value), tolerance: 15);
        // ffmpeg decodes this fixture to an RMS of 0.0594 in each (identical) channel; averaging keeps it, while
        // summing would double it and dropping a channel would halve it.
        Assert.InRange(Rms(result.Value), 0.05, 0.07);
    }

    [Fact]
    public void A_small_file_that_decodes_past_the_duration_limit_is_refused()
    {
        var bytes = Fixture("sine300_8k_40s.mp3"); // 40 KB, 40 s at 8 kbps; the limit is 30 s

        var result = Decoder.Decode(bytes);

        Assert.False(result.IsSuccess);
        Assert.Equal(MediaErrorCodes.AudioTooLarge, result.Error.Code);
        Assert.Contains("30 seconds", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_file_within_a_larger_limit_decodes()
    {
        var result = new Mp3Decoder(new AudioLimits { MaxSeconds = 60 }).Decode(Fixture("sine300_8k_40s.mp3"));

        Assert.True(result.IsSuccess, result.ToString());
        Assert.InRange(result.Value.DurationSeconds, 39.9, 40.5);
    }

    [Theory]
    [InlineData("This is not an mp3 file, just some text pretending to be one.\n")]
    [InlineData("ID3 but then nothing")]
    [InlineData("")]
    public void Text_is_refused_as_invalid_audio(string text)
    {
        var result = Decoder.Decode(Encoding.UTF8.GetBytes(text));

        Assert.False(result.IsSuccess);
        Assert.Equal(MediaErrorCodes.InvalidAudio, result.Error.Code);
        Assert.Contains("MP3", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lone_sync_word_is_not_enough_to_count_as_mp3()
    {
        byte[] fake = [0xFF, 0xFB, 0x90, 0x64, .. new byte[64]]; // a valid-looking header, then no second frame where it should be

        Assert.False(Mp3Decoder.LooksLikeMpegAudio(fake));
        Assert.True(Mp3Decoder.LooksLikeMpegAudio(Fixture("sine440_16k_mono.mp3")));
    }

    [Fact]
    public void Oversized_input_is_refused_before_decoding()
    {
        var small = new Mp3Decoder(new AudioLimits { MaxBytes = 1000 });

        var result = small.Decode(Fixture("sine440_16k_mono.mp3"));

        Assert.False(result.IsSuccess);
        Assert.Equal(MediaErrorCodes.AudioTooLarge, result.Error.Code);
    }

    [Fact]
    public void Truncated_and_corrupted_files_never_throw()
    {
        var original = Fixture("sine1k_44k_stereo.mp3");
        var random = new Random(1234);
        for (int i = 0; i < 150; i++)
        {
            var bytes = original.AsSpan(0, random.Next(1, original.Length)).ToArray();
            int flips = random.Next(1, 40);
            for (int f = 0; f < flips; f++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            var result = Decoder.Decode(bytes); // must return a value or an error, never throw
            Assert.True(result.IsSuccess || result.Error.Code == MediaErrorCodes.InvalidAudio, result.ToString());
        }
    }

    /// <summary>Peak of a plain DFT over 0.25 s from the middle of the clip, in Hz (resolution 4 Hz).</summary>
    private static double DominantFrequency(DecodedAudio audio)
    {
        var samples = audio.Samples.Span;
        int n = audio.SampleRate / 4;
        int start = (samples.Length - n) / 2;
        double best = 0;
        int bestBin = 0;
        for (int k = 1; k < n / 2; k++)
        {
            double re = 0, im = 0;
            for (int t = 0; t < n; t++)
            {
                double angle = 2 * Math.PI * k * t / n;
                re += samples[start + t] * Math.Cos(angle);
                im -= samples[start + t] * Math.Sin(angle);
            }

            double power = (re * re) + (im * im);
            if (power > best)
            {
                best = power;
                bestBin = k;
            }
        }

        return bestBin * (double)audio.SampleRate / n;
    }

    private static double Rms(DecodedAudio audio)
    {
        var s = audio.Samples.Span;
        double sum = 0;
        for (int i = 0; i < s.Length; i++)
        {
            sum += s[i] * s[i];
        }

        return Math.Sqrt(sum / s.Length);
    }
}
