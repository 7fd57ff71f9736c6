using MmServe.Bench.Imaging;

namespace MmServe.Soak.Load;

/// <summary>
/// A PNG no request has sent before: random width and height in [32, 96] and a noisy gradient with a coloured block,
/// so every image is a cache miss that is decoded, resized and encoded, and its embeddings enter the encoder cache.
/// </summary>
internal static class UniquePng
{
    public const int MinSide = 32;
    public const int MaxSide = 96;

    public static byte[] Render(Random rng)
    {
        int width = rng.Next(MinSide, MaxSide + 1);
        int height = rng.Next(MinSide, MaxSide + 1);
        var rgb = new byte[width * height * 3];
        rng.NextBytes(rgb); // noise: with thousands of bytes of it, two images never repeat

        var colour = (R: (byte)rng.Next(256), G: (byte)rng.Next(256), B: (byte)rng.Next(256));
        int x0 = rng.Next(width / 2), y0 = rng.Next(height / 2);
        for (int y = y0; y < y0 + (height / 2); y++)
        {
            for (int x = x0; x < x0 + (width / 2); x++)
            {
                int i = ((y * width) + x) * 3;
                (rgb[i], rgb[i + 1], rgb[i + 2]) = colour;
            }
        }

        return PngEncoder.EncodeRgb(rgb, width, height);
    }
}
