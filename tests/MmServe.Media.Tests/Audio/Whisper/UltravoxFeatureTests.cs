using MmServe.Media.Audio;
using MmServe.Media.Audio.Whisper;

namespace MmServe.Media.Tests.Audio.Whisper;

/// <summary>
/// Ultravox's features: transformers.js' UltravoxProcessor calls the Whisper feature extractor with max_length = the
/// clip's length, so a clip gives floor(samples / hop) frames and no 30 s padding. The oracle's own 16 kHz samples →
/// features within 1e-4 of its audio_values, and for the 16 kHz WAV the whole in-process path file → features.
/// </summary>
public sealed class UltravoxFeatureTests
{
    private const float Tolerance = 1e-4f;

    private static readonly WhisperFeatureExtractor Extractor = new(new WhisperFeatureSpec());

    public static TheoryData<string> Clips() => WhisperFixtures.Clips(WhisperFixtures.Ultravox);

    [Theory]
    [MemberData(nameof(Clips))]
    public void Oracle_samples_give_transformers_js_audio_values_at_the_clip_length(string audio)
    {
        var (samples, expected) = WhisperFixtures.Load(audio, WhisperFixtures.Ultravox);

        var features = Extractor.ComputeAtLength(samples);

        Assert.Equal(80 * (samples.Length / 160), features.Length);
        Assert.Equal(expected.Length, features.Length);
        WhisperFeatureExtractorTests.AssertClose(audio, expected, features, Tolerance);
    }

    [Fact]
    public void Sixteen_khz_wav_file_gives_transformers_js_audio_values()
    {
        const string Audio = "audio/beeps2-high-16k.wav";
        var (_, expected) = WhisperFixtures.Load(Audio, WhisperFixtures.Ultravox);
        var decoded = new WavDecoder().Decode(File.ReadAllBytes(WhisperFixtures.AudioPath(Audio)));
        Assert.True(decoded.IsSuccess, decoded.Error?.Message);

        WhisperFeatureExtractorTests.AssertClose(Audio, expected, Extractor.ComputeAtLength(decoded.Value.Samples.Span), Tolerance);
    }

    [Theory]
    [InlineData(200)]
    [InlineData(480001)]
    public void Clip_lengths_without_a_reference_are_refused(int samples)
    {
        Assert.Throws<ArgumentException>(() => Extractor.ComputeAtLength(new float[samples]));
    }

    [Fact]
    public void Frames_follow_the_clip_length_up_to_thirty_seconds()
    {
        Assert.Equal(1, Extractor.FramesAtLength(201));
        Assert.Equal(100, Extractor.FramesAtLength(16159));
        Assert.Equal(3000, Extractor.FramesAtLength(480000));
    }
}
