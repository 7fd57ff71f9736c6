using MmServe.Media.Ffmpeg;
using MmServe.Media.Tests.Ffmpeg;

namespace MmServe.Media.Tests.Audio.Whisper;

/// <summary>
/// ffmpeg with soxr to 16 kHz (<see cref="FfmpegAudioDecoder.DecodeAsync(ReadOnlyMemory{byte}, double, int?, CancellationToken)"/>)
/// gives the Whisper oracle's own samples: the oracle decodes every clip with
/// <c>ffmpeg -i FILE -vn -af aresample=16000:resampler=soxr:precision=28 -ac 1 -c:a pcm_f32le -f f32le -</c>.
/// </summary>
[Collection(FfmpegCollection.Name)]
public sealed class WhisperFfmpegDecodeTests
{
    public static TheoryData<string> Clips() => WhisperFixtures.Clips();

    [FfmpegTheory]
    [MemberData(nameof(Clips))]
    public async Task Soxr_decode_gives_the_oracle_samples(string audio)
    {
        var decoder = new FfmpegAudioDecoder(TestFfmpeg.RequireTools());
        var (expected, _) = WhisperFixtures.Load(audio);

        var decoded = await decoder.DecodeAsync(File.ReadAllBytes(WhisperFixtures.AudioPath(audio)), maxSeconds: 30, resampleTo: 16000);

        Assert.True(decoded.IsSuccess, decoded.Error?.Message);
        Assert.Equal(16000, decoded.Value.SampleRate);
        var samples = decoded.Value.Samples.Span;
        Assert.Equal(expected.Length, samples.Length);
        float worst = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(samples[i] - expected[i]));
        }

        Assert.True(worst <= 1e-6f, $"{audio}: max |diff| {worst}");
    }
}
