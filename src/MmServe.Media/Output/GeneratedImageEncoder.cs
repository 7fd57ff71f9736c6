using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace MmServe.Media.Output;

/// <summary>
/// A generator's image tensor (planar RGB, [3, height, width] floats in [0, 1]) to PNG bytes. Values are scaled by
/// 255, rounded half to even and clamped, as the reference recipe writes its PNGs, so a served image equals the
/// reference one pixel for pixel when the tensors agree.
/// </summary>
public static class GeneratedImageEncoder
{
    private static readonly PngEncoder Png = new()
    {
        ColorType = PngColorType.Rgb,
        BitDepth = PngBitDepth.Bit8,
        // No text, gamma or time chunks: the same pixels always give the same bytes.
        ChunkFilter = PngChunkFilter.ExcludeAll,
    };

    /// <param name="planes">3 x height x width floats (channel-major, "nchw" without the batch).</param>
    public static byte[] EncodePng(ReadOnlySpan<float> planes, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int plane = width * height;
        if (planes.Length != 3 * plane)
        {
            throw new ArgumentException($"Expected 3 x {height} x {width} = {3 * plane} floats, got {planes.Length}.", nameof(planes));
        }

        var pixels = new Rgb24[plane];
        for (int i = 0; i < plane; i++)
        {
            pixels[i] = new Rgb24(ToByte(planes[i]), ToByte(planes[plane + i]), ToByte(planes[(2 * plane) + i]));
        }

        using var image = Image.LoadPixelData<Rgb24>(pixels, width, height);
        using var output = new MemoryStream();
        image.Save(output, Png);
        return output.ToArray();
    }

    /// <summary>[0, 1] → 0..255, rounding half to even (numpy's rounding); NaN becomes 0.</summary>
    public static byte ToByte(float value)
    {
        float scaled = MathF.Round(value * 255f, MidpointRounding.ToEven);
        return scaled >= 255f ? (byte)255 : scaled > 0f ? (byte)scaled : (byte)0;
    }
}
