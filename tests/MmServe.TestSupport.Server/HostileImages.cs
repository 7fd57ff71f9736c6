using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace MmServe.TestSupport.Server;

/// <summary>The hostile battery's images: a JPEG cut in half, a WebP whose VP8X canvas is 16777216², a JPEG sent as PNG.</summary>
public static class HostileImages
{
    public static byte[] Jpeg(int width = 64, int height = 64)
    {
        using var image = Gradient(width, height);
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream);
        return stream.ToArray();
    }

    /// <summary>The first half of a real JPEG: a decoder would paint the missing rows grey.</summary>
    public static byte[] FirstHalfOfAJpeg()
    {
        var jpeg = Jpeg();
        return jpeg[..(jpeg.Length / 2)];
    }

    /// <summary>An 8x8 lossless WebP behind a VP8X chunk declaring a 16777216 x 16777216 canvas.</summary>
    public static byte[] WebpWithAHugeCanvas()
    {
        using var image = Gradient(8, 8);
        using var stream = new MemoryStream();
        image.SaveAsWebp(stream, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless });
        var simple = stream.ToArray();

        var vp8x = new byte[18];
        "VP8X"u8.CopyTo(vp8x);
        BinaryPrimitives.WriteInt32LittleEndian(vp8x.AsSpan(4), 10);
        vp8x[12] = vp8x[13] = vp8x[14] = 0xFF; // canvas width - 1 = 2^24 - 1
        vp8x[15] = vp8x[16] = vp8x[17] = 0xFF; // canvas height - 1
        var imageChunk = simple[12..];
        var riff = new byte[12];
        "RIFF"u8.CopyTo(riff);
        BinaryPrimitives.WriteInt32LittleEndian(riff.AsSpan(4), 4 + vp8x.Length + imageChunk.Length);
        "WEBP"u8.CopyTo(riff.AsSpan(8));
        return [.. riff, .. vp8x, .. imageChunk];
    }

    private static Image<Rgb24> Gradient(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image[x, y] = new Rgb24((byte)(x * 255 / width), (byte)(y * 255 / height), 128);
            }
        }

        return image;
    }
}
