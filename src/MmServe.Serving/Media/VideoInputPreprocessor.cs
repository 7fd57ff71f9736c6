using MmServe.Media;
using MmServe.Media.Ffmpeg;
using MmServe.Media.Images;

namespace MmServe.Serving.Media;

/// <summary>
/// Video bytes → the manifest's frame count sampled uniformly by the hardened ffmpeg sampler (probe first,
/// caps on duration, frames and pixels, timeout) → every frame through the image preprocessing → the frame
/// encoder's input, frames back to back.
/// </summary>
public sealed class VideoInputPreprocessor(VideoFrameSampler sampler, ImagePreprocessor frames, int numFrames, long maxEncodedBytes)
    : IMediaPreprocessor
{
    public string Modality => ServedModel.VideoModality;

    public long MaxEncodedBytes => maxEncodedBytes;

    public int OutputLength => frames.OutputLength * numFrames;

    public string ConfigurationKey { get; } = $"video|{numFrames}|{ImageInputPreprocessor.KeyOf(frames.Spec)}";

    public async Task<MediaResult<float[]>> PreprocessAsync(ReadOnlyMemory<byte> encoded, string? declaredFormat, CancellationToken ct)
    {
        var sampled = await sampler.SampleAsync(encoded, numFrames, ct).ConfigureAwait(false);
        if (!sampled.IsSuccess)
        {
            return sampled.Error;
        }

        int length = frames.OutputLength;
        var pixels = new float[length * numFrames];
        for (int i = 0; i < numFrames; i++)
        {
            frames.Preprocess(sampled.Value[i], pixels.AsSpan(i * length, length));
        }

        return pixels;
    }
}
