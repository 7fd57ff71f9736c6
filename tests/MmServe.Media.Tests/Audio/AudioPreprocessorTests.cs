using MmServe.Media.Audio;

namespace MmServe.Media.Tests.Audio;

public sealed class AudioPreprocessorTests
{
    private readonly AudioPreprocessor _preprocessor = new(new LogMelSpec());

    [Fact]
    public void Resampling_only_the_kept_clip_gives_the_same_features_as_resampling_everything()
    {
        var random = new Random(9);
        var samples = Enumerable.Range(0, 48000 * 10).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var audio = new DecodedAudio(samples, 48000, 1);

        var features = _preprocessor.Preprocess(audio);

        var everything = Resampler.Resample(samples, 48000, 16000);
        Assert.Equal(_preprocessor.Features.Compute(everything), features);
    }

    [Fact]
    public void Stereo_44k_tone_gives_nearly_the_features_of_the_same_tone_at_16k()
    {
        var left = ResamplerTests.Tone(440, 44100, seconds: 2.0, amplitude: 0.3);
        var interleaved = new short[left.Length * 2];
        for (int i = 0; i < left.Length; i++)
        {
            interleaved[2 * i] = interleaved[(2 * i) + 1] = (short)Math.Round(left[i] * 32767);
        }

        var wav = new WavBuilder { Channels = 2, SampleRate = 44100, Data = WavBuilder.Pcm16(interleaved) }.Build();
        var features = _preprocessor.Preprocess(wav);
        var reference = _preprocessor.Features.Compute(ResamplerTests.Tone(440, 16000, seconds: 2.0, amplitude: 0.3));

        Assert.True(features.IsSuccess, features.Error?.Message);

        // Compare the bands that carry energy (ln power above -5); the rest are dominated by quantisation noise.
        int frames = _preprocessor.Features.FrameCount;
        for (int i = 0; i < features.Value.Length; i++)
        {
            if (reference[i] > -5 && i % frames < frames - 3)
            {
                Assert.True(Math.Abs(features.Value[i] - reference[i]) < 0.01, $"mel {i / frames} frame {i % frames}: {features.Value[i]} vs {reference[i]}");
            }
        }
    }

    [Fact]
    public void Decoding_errors_pass_through_as_values()
    {
        var result = _preprocessor.Preprocess("definitely not audio"u8);

        Assert.False(result.IsSuccess);
        Assert.Equal(MediaErrorCodes.InvalidAudio, result.Error.Code);
    }

    [Fact]
    public void Limits_beyond_the_resampler_ratio_are_rejected_at_construction()
    {
        Assert.Throws<ArgumentException>(() => new AudioPreprocessor(new LogMelSpec(), new AudioLimits { MaxSampleRate = 16000 * 65 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WavDecoder(new AudioLimits { MaxSeconds = 0 }));
    }
}
