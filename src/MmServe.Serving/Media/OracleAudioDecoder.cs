using MmServe.Media;
using MmServe.Media.Audio;
using MmServe.Media.Ffmpeg;

namespace MmServe.Serving.Media;

/// <summary>
/// Audio bytes → mono samples at a model's rate, decoded the way the transformers.js oracle's clips are decoded (its
/// processors take samples, which the conformance scripts make with ffmpeg + soxr): a PCM WAV already at that rate in
/// process, which is exact; every other container and rate through ffmpeg with soxr. Used by the speech models whose
/// features must match the reference within float noise (Whisper, Ultravox).
/// </summary>
public sealed class OracleAudioDecoder(FfmpegAudioDecoder? ffmpeg, int sampleRate)
{
    public int SampleRate => sampleRate;

    /// <summary>Whether anything but a PCM WAV at <see cref="SampleRate"/> can be decoded (ffmpeg is available).</summary>
    public bool DecodesAllFormats => ffmpeg is not null;

    /// <summary>
    /// The samples, or a media error; without ffmpeg, audio other than a WAV at the model's rate is refused with
    /// <see cref="MediaErrorCodes.UnsupportedAudioFormat"/>.
    /// </summary>
    /// <param name="maxSeconds">Longest clip ffmpeg decodes (server configuration).</param>
    public async Task<MediaResult<float[]>> DecodeAsync(ReadOnlyMemory<byte> audio, double maxSeconds, CancellationToken ct)
    {
        if (audio.Span.StartsWith("RIFF"u8))
        {
            var wav = new WavDecoder().Decode(audio.Span);
            if (!wav.IsSuccess)
            {
                return wav.Error!;
            }

            if (wav.Value.SampleRate == sampleRate)
            {
                return wav.Value.Samples.ToArray();
            }
        }

        if (ffmpeg is null)
        {
            return new MediaError(
                MediaErrorCodes.UnsupportedAudioFormat, $"Only {sampleRate / 1000.0:0.#} kHz PCM WAV can be read without ffmpeg on this server.");
        }

        var decoded = await ffmpeg.DecodeAsync(audio, maxSeconds, sampleRate, ct).ConfigureAwait(false);
        return decoded.IsSuccess ? decoded.Value.Samples.ToArray() : decoded.Error!;
    }
}
