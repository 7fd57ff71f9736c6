using MmServe.Media.Audio;
using MmServe.Media.Output;

namespace MmServe.Serving.Generation;

/// <summary>
/// OpenAI's headerless audio ("pcm" from /v1/audio/speech, "pcm16" in chat): 16-bit little-endian mono at 24 kHz.
/// Nothing in the bytes says the rate, so clients assume 24 kHz; generated audio is resampled to it (band-limited,
/// the same resampler that brings client audio to the model's rate).
/// </summary>
public static class OpenAiPcm
{
    public const int SampleRate = 24_000;

    public static byte[] Encode(ReadOnlySpan<float> samples, int sourceRate) =>
        GeneratedAudioEncoder.EncodePcm16(Resampler.Resample(samples, sourceRate, SampleRate));
}
