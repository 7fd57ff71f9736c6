using MmServe.Media;
using MmServe.Media.Audio.Whisper;
using MmServe.Model.HuggingFace;

namespace MmServe.Serving.Media;

/// <summary>
/// An Ultravox clip: bytes → 16 kHz mono samples (<see cref="OracleAudioDecoder"/>) → log-mel at the clip's own length
/// (<see cref="WhisperFeatureExtractor.ComputeAtLength"/>, as UltravoxProcessor calls the feature extractor). The item
/// is laid out as <see cref="UltravoxAudioItem"/> says, so the sample count (which fixes the token count) travels with it.
/// </summary>
public sealed class UltravoxAudioPreprocessor(UltravoxConfig config, OracleAudioDecoder decoder, WhisperFeatureExtractor features, long maxEncodedBytes)
    : IMediaPreprocessor
{
    public string Modality => ServedModel.AudioModality;

    public long MaxEncodedBytes => maxEncodedBytes;

    /// <summary>0: an item's length follows from its clip's length.</summary>
    public int OutputLength => 0;

    public string ConfigurationKey => $"ultravox|{config}";

    public int Mels => features.MelCount;

    public async Task<MediaResult<float[]>> PreprocessAsync(ReadOnlyMemory<byte> encoded, string? declaredFormat, CancellationToken ct)
    {
        var spec = features.Spec;
        double maxSeconds = (double)spec.NSamples / spec.SamplingRate;
        var decoded = await decoder.DecodeAsync(encoded, maxSeconds * 2, ct).ConfigureAwait(false);
        if (!decoded.IsSuccess)
        {
            return decoded.Error;
        }

        // Longer clips: transformers.js counts tokens from the whole clip but its features stop at nb_max_frames, so
        // no reference exists; shorter than half a window: no frame to compute.
        int samples = decoded.Value.Length;
        if (samples > spec.NSamples)
        {
            return new MediaError(MediaErrorCodes.AudioTooLarge, $"The audio is {samples / (double)spec.SamplingRate:0.##} s long; this model takes clips of at most {maxSeconds:0.##} s.");
        }

        if (samples <= spec.NFft / 2)
        {
            return new MediaError(
                MediaErrorCodes.InvalidAudio, $"The audio is {samples} samples long at {spec.SamplingRate} Hz; this model needs at least {(spec.NFft / 2) + 1}.");
        }

        return UltravoxAudioItem.Preprocessed(samples, features.ComputeAtLength(decoded.Value));
    }
}

/// <summary>A preprocessed Ultravox clip: <c>[sample count, log-mel [mels, frames]...]</c> (counts up to 2^24 are exact in float).</summary>
public static class UltravoxAudioItem
{
    public static float[] Preprocessed(int samples, float[] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var item = new float[1 + features.Length];
        item[0] = samples;
        features.CopyTo(item, 1);
        return item;
    }

    public static int Samples(float[] item) => (int)item[0];

    public static ReadOnlyMemory<float> Features(float[] item) => item.AsMemory(1);
}
