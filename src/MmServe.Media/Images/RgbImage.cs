namespace MmServe.Media.Images;

/// <summary>
/// Decoded pixels: row-major, 3 bytes per pixel in R, G, B order, no padding between rows.
/// </summary>
public sealed class RgbImage
{
    public const int BytesPerPixel = 3;

    public RgbImage(int width, int height, ReadOnlyMemory<byte> pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (pixels.Length != (long)width * height * BytesPerPixel)
        {
            throw new ArgumentException(
                $"Expected {(long)width * height * BytesPerPixel} bytes for {width}x{height} RGB24, got {pixels.Length}.",
                nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public ReadOnlyMemory<byte> Pixels { get; }

    public override string ToString() => $"RgbImage {Width}x{Height}";
}
