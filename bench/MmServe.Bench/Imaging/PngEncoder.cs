using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MmServe.Bench.Imaging;

/// <summary>
/// The smallest useful PNG encoder: 8-bit RGB, no interlace, filter type 0 on every row, one IDAT chunk. Enough
/// for the synthetic images the benchmark sends; the server's decoder does the real validation.
/// </summary>
internal static class PngEncoder
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes rgb (width * height * 3 bytes, row-major) as a PNG file.</summary>
    public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int width, int height)
    {
        if (rgb.Length != width * height * 3)
        {
            throw new ArgumentException($"Expected {width * height * 3} bytes of RGB, got {rgb.Length}.", nameof(rgb));
        }

        using var png = new MemoryStream();
        png.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: truecolour
        // [10..12]: compression 0 (deflate), filter method 0, interlace 0 (none); already zero.
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", Deflate(rgb, width, height));
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static byte[] Deflate(ReadOnlySpan<byte> rgb, int width, int height)
    {
        var stride = width * 3;
        using var compressed = new MemoryStream();
        // PNG's IDAT holds a zlib stream (header + deflate + Adler-32), which is exactly what ZLibStream writes.
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter type None for this scanline
                zlib.Write(rgb.Slice(y * stride, stride));
            }
        }

        return compressed.ToArray();
    }

    private static void WriteChunk(Stream png, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);

        var typeBytes = Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);

        // The CRC covers the chunk type and data, not the length.
        var crc = Crc32.Update(0xFFFFFFFFu, typeBytes);
        crc = Crc32.Update(crc, data) ^ 0xFFFFFFFFu;
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        png.Write(crcBytes);
    }
}
