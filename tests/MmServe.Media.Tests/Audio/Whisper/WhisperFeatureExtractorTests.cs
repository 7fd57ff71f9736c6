using MmServe.Media.Audio;
using MmServe.Media.Audio.Whisper;

namespace MmServe.Media.Tests.Audio.Whisper;

/// <summary>
/// Whisper log-mel parity with transformers.js: the oracle's own 16 kHz samples → features within 1e-4 of its
/// input_features, and for the 16 kHz WAV the whole in-process path file → features.
/// </summary>
public sealed class WhisperFeatureExtractorTests
{
    private const float Tolerance = 1e-4f;

    private static readonly WhisperFeatureExtractor Extractor = new(new WhisperFeatureSpec());

    public static TheoryData<string> Clips() => WhisperFixtures.Clips();

    [Theory]
    [MemberData(nameof(Clips))]
    public void Oracle_samples_give_transformers_js_input_features(string audio)
    {
        var (samples, expected) = WhisperFixtures.Load(audio);

        var features = Extractor.Compute(samples);

        Assert.Equal(80 * 3000, features.Length);
        Assert.Equal(expected.Length, features.Length);
        AssertClose(audio, expected, features);
    }

    [Fact]
    public void Sixteen_khz_wav_file_gives_transformers_js_input_features()
    {
        const string Audio = "audio/beeps2-high-16k.wav";
        var (samples, expected) = WhisperFixtures.Load(Audio);
        var decoded = new WavDecoder().Decode(File.ReadAllBytes(WhisperFixtures.AudioPath(Audio)));
        Assert.True(decoded.IsSuccess, decoded.Error?.Message);
        Assert.Equal(16000, decoded.Value.SampleRate);

        // Lossless, no resampling: the oracle's samples are exactly int16 / 32768.
        Assert.Equal(samples, decoded.Value.Samples.ToArray());
        AssertClose(Audio, expected, Extractor.Compute(decoded.Value.Samples.Span));
    }

    [Fact]
    public void Longer_than_thirty_seconds_is_cut_and_silence_stays_finite()
    {
        var tone = new float[(16000 * 31) + 7];
        for (int i = 0; i < tone.Length; i++)
        {
            tone[i] = 0.25f * MathF.Sin(2 * MathF.PI * 440 * i / 16000f);
        }

        var cut = Extractor.Compute(tone);
        var exact = Extractor.Compute(tone.AsSpan(0, 480000));
        Assert.Equal(exact, cut);

        var silence = Extractor.Compute(new float[100]);
        Assert.All(silence, v => Assert.Equal((-10f + 4f) / 4f, v));
    }

    [Fact]
    public void Spec_rejects_a_frame_count_the_samples_cannot_give()
    {
        var error = Assert.Throws<ArgumentException>(() => new WhisperFeatureExtractor(new WhisperFeatureSpec { NbMaxFrames = 4000 }));
        Assert.Contains("nb_max_frames", error.Message, StringComparison.Ordinal);
    }

    internal static void AssertClose(string audio, float[] expected, float[] actual, float tolerance = Tolerance)
    {
        float worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        }

        Assert.True(worst <= tolerance, $"{audio}: max |diff| {worst} > {tolerance}");
    }
}
