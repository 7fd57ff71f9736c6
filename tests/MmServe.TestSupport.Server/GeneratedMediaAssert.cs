using MmServe.Media.Audio;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MmServe.TestSupport.Server;

/// <summary>Served media against the PyTorch reference, within the tolerances the generation tests state.</summary>
public static class GeneratedMediaAssert
{
    /// <summary>Largest per-pixel difference allowed: 2/255 (PNG's 8-bit rounding alone accounts for 0.5/255).</summary>
    public const double MaxPixelDelta = 2.0 / 255.0;

    /// <summary>Largest RMS difference of audio samples allowed (16-bit quantisation alone is ~1e-5).</summary>
    public const double MaxAudioRms = 1e-3;

    /// <summary>PNG bytes vs the reference's planar [3, H, W] floats.</summary>
    public static void ImageMatches(byte[] png, float[] reference, string because)
    {
        using var image = Image.Load<Rgb24>(png);
        int plane = image.Width * image.Height;
        Assert.Equal(reference.Length, 3 * plane);
        double worst = 0;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var p = image[x, y];
                int i = (y * image.Width) + x;
                worst = Math.Max(worst, Math.Abs((p.R / 255.0) - reference[i]));
                worst = Math.Max(worst, Math.Abs((p.G / 255.0) - reference[plane + i]));
                worst = Math.Max(worst, Math.Abs((p.B / 255.0) - reference[(2 * plane) + i]));
            }
        }

        Assert.True(worst <= MaxPixelDelta, $"{because}: max |Δ| {worst * 255:F2}/255 exceeds 2/255");
    }

    /// <summary>WAV bytes vs the reference's samples.</summary>
    public static void WavMatches(byte[] wav, float[] reference, int sampleRate, string because)
    {
        var decoded = new WavDecoder().Decode(wav);
        Assert.True(decoded.IsSuccess, because + ": " + (decoded.IsSuccess ? "" : decoded.Error.Message));
        Assert.Equal(sampleRate, decoded.Value.SampleRate);
        SamplesMatch(decoded.Value.Samples.ToArray(), reference, because);
    }

    /// <summary>
    /// OpenAI's bare PCM16 (24 kHz) vs the reference's samples at <paramref name="referenceRate"/>, brought to 24 kHz
    /// by the media library's resampler (tested on its own in MmServe.Media.Tests).
    /// </summary>
    public static void Pcm16Matches(byte[] pcm, float[] reference, int referenceRate, string because) =>
        Pcm16Matches(pcm, Resampler.Resample(reference, referenceRate, 24_000), because);

    private static void Pcm16Matches(byte[] pcm, float[] reference, string because)
    {
        var samples = new float[pcm.Length / 2];
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] = BitConverter.ToInt16(pcm, 2 * i) / 32768f;
        }

        SamplesMatch(samples, reference, because);
    }

    private static void SamplesMatch(float[] actual, float[] reference, string because)
    {
        Assert.Equal(reference.Length, actual.Length);
        double sum = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double d = actual[i] - reference[i];
            sum += d * d;
        }

        double rms = Math.Sqrt(sum / reference.Length);
        Assert.True(rms <= MaxAudioRms, $"{because}: RMS difference {rms:E2} exceeds 1e-3");
    }
}
