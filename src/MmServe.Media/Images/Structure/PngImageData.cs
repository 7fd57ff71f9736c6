using System.Buffers.Binary;
using System.IO.Compression;

namespace MmServe.Media.Images.Structure;

/// <summary>
/// Whether a PNG's IDAT stream holds every row its header promises: a stream cut at a chunk boundary has whole chunks
/// but not a whole image, and ImageSharp would fill the missing rows with zeros.
/// </summary>
internal static class PngImageData
{
    /// <summary>
    /// Whether the IDAT data inflates to at least the bytes the IHDR's size, bit depth, colour type and interlacing
    /// need. Call it after the size checks: it inflates the stream once more (into a small scratch buffer, counting).
    /// </summary>
    public static bool IsComplete(ReadOnlyMemory<byte> png)
    {
        var chunks = PngStructure.Chunks(png.Span, out _);
        var header = chunks.FirstOrDefault(c => c.Type == "IHDR");
        if (header.Type is null || header.Length < 13 || ExpectedImageDataBytes(png.Span.Slice(header.DataStart, 13)) is not long expected)
        {
            // A header the decoder cannot use either; it refuses the file itself.
            return true;
        }

        using var idat = new ChunkDataStream(png, [.. chunks.Where(c => c.Type == "IDAT")]);
        try
        {
            using var inflater = new ZLibStream(idat, CompressionMode.Decompress);
            var scratch = new byte[64 * 1024];
            long total = 0;
            int read;
            while (total < expected && (read = inflater.Read(scratch, 0, scratch.Length)) > 0)
            {
                total += read;
            }

            return total >= expected;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>Filtered image data length: per pass (7 with Adam7 interlacing), rows × (filter byte + row bytes).</summary>
    private static long? ExpectedImageDataBytes(ReadOnlySpan<byte> ihdr)
    {
        long width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        long height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        int bitDepth = ihdr[8];
        int channels = ihdr[9] switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        if (channels == 0 || bitDepth is not (1 or 2 or 4 or 8 or 16))
        {
            return null;
        }

        long bitsPerPixel = (long)channels * bitDepth;
        long Pass(long w, long h) => w == 0 || h == 0 ? 0 : h * (1 + ((w * bitsPerPixel) + 7) / 8);
        if (ihdr[12] == 0)
        {
            return Pass(width, height);
        }

        // Adam7: (x start, y start, x step, y step) of the seven passes.
        ReadOnlySpan<int> passes = [0, 0, 8, 8, 4, 0, 8, 8, 0, 4, 4, 8, 2, 0, 4, 4, 0, 2, 2, 4, 1, 0, 2, 2, 0, 1, 1, 2];
        long total = 0;
        for (int p = 0; p < passes.Length; p += 4)
        {
            long w = (width - passes[p] + passes[p + 2] - 1) / passes[p + 2];
            long h = (height - passes[p + 1] + passes[p + 3] - 1) / passes[p + 3];
            total += Pass(Math.Max(0, w), Math.Max(0, h));
        }

        return total;
    }
}
