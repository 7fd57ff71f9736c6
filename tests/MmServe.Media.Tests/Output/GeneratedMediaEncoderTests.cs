using MmServe.Media.Audio;
using MmServe.Media.Output;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MmServe.Media.Tests.Output;

/// <summary>Generated tensors survive encoding: PNG and WAV decode back to the rounded values, planes in order.</summary>
public sealed class GeneratedMediaEncoderTests
{
    [Fact]
    public void Png_HoldsTheRoundedPlanes_InRgbOrder()
    {
        const int width = 5, height = 3;
        var random = new Random(7);
        var planes = Enumerable.Range(0, 3 * width * height).Select(_ => (float)(random.NextDouble() * 1.2) - 0.1f).ToArray();

        var png = GeneratedImageEncoder.EncodePng(planes, width, height);

        Assert.True(png.AsSpan().StartsWith(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
        using var image = Image.Load<Rgb24>(png);
        Assert.Equal((width, height), (image.Width, image.Height));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = (y * width) + x;
                var pixel = image[x, y];
                Assert.Equal(Expected(planes[i]), pixel.R);
                Assert.Equal(Expected(planes[(width * height) + i]), pixel.G);
                Assert.Equal(Expected(planes[(2 * width * height) + i]), pixel.B);
            }
        }

        static byte Expected(float v) => (byte)Math.Clamp(Math.Round(v * 255.0, MidpointRounding.ToEven), 0, 255);
    }

    [Fact]
    public void Png_OfTheWrongSize_IsRefused() =>
        Assert.Throws<ArgumentException>(() => GeneratedImageEncoder.EncodePng(new float[10], 2, 2));

    [Theory]
    [InlineData(0.5f, 16384)] // 16383.5 rounds to even
    [InlineData(1.5f, 32767)]
    [InlineData(-1.5f, -32768)]
    [InlineData(float.NaN, 0)]
    [InlineData(-0.25f, -8192)] // -8191.75
    public void Pcm16_RoundsHalfToEven_AndClamps(float value, short expected) =>
        Assert.Equal(expected, GeneratedAudioEncoder.ToPcm16(value));

    [Fact]
    public void Wav_DecodesToTheSameSamples_AndRate()
    {
        var samples = Enumerable.Range(0, 1600).Select(i => MathF.Sin(i * 0.05f) * 0.8f).ToArray();

        var wav = GeneratedAudioEncoder.EncodeWav(samples, 16000);
        var decoded = new WavDecoder().Decode(wav);

        Assert.True(decoded.IsSuccess, decoded.IsSuccess ? null : decoded.Error.Message);
        Assert.Equal(16000, decoded.Value.SampleRate);
        Assert.Equal(samples.Length, decoded.Value.Samples.Length);
        for (int i = 0; i < samples.Length; i++)
        {
            Assert.Equal(GeneratedAudioEncoder.ToPcm16(samples[i]) / 32768f, decoded.Value.Samples.Span[i], 1e-6f);
        }

        var pcm = GeneratedAudioEncoder.EncodePcm16(samples);
        Assert.Equal(wav.AsSpan(44).ToArray(), pcm);
    }
}
