using System.Buffers.Binary;

namespace MmServe.Media.Images;

/// <summary>
/// Finds the EXIF Orientation tag (0x0112) of a JPEG, PNG or WebP file and applies it the way PIL's
/// <c>ImageOps.exif_transpose</c> does, which is what transformers' <c>load_image</c> calls.
/// </summary>
/// <remarks>
/// This is a few hundred bytes of bounds-checked parsing instead of ImageSharp's metadata readers, which stay off
/// (<see cref="HardenedImageConfiguration"/>): only the container's EXIF block and its first IFD are looked at, and
/// any malformation simply means "no orientation". Like Pillow, it reads the first JPEG APP1 segment that starts with
/// <c>Exif\0</c>, a PNG eXIf chunk anywhere in the file, or a WebP EXIF chunk. Not handled: the orientation Pillow
/// falls back to from XMP (tiff:Orientation) and PNG "Raw profile type exif" text chunks.
/// </remarks>
internal static class ExifOrientation
{
    private const ushort OrientationTag = 0x0112;

    /// <summary>The orientation (1..8), or 1 when the file has none or an invalid one.</summary>
    public static int Read(ReadOnlySpan<byte> encoded)
    {
        var tiff = FindTiffBlock(encoded);
        int value = tiff.IsEmpty ? 1 : ReadOrientation(tiff);
        return value is >= 1 and <= 8 ? value : 1;
    }

    /// <summary>Whether <paramref name="orientation"/> swaps width and height (the transposing ones: 5 to 8).</summary>
    public static bool SwapsAxes(int orientation) => orientation is >= 5 and <= 8;

    /// <summary>
    /// Applies <paramref name="orientation"/> to row-major RGB24 pixels: 2 flip left-right, 3 rotate 180,
    /// 4 flip top-bottom, 5 transpose, 6 rotate 90 clockwise (PIL ROTATE_270), 7 transverse, 8 rotate 90
    /// counter-clockwise (PIL ROTATE_90).
    /// </summary>
    public static RgbImage Apply(RgbImage image, int orientation)
    {
        if (orientation is < 2 or > 8)
        {
            return image;
        }

        int w = image.Width, h = image.Height;
        bool swap = SwapsAxes(orientation);
        int outWidth = swap ? h : w;
        int outHeight = swap ? w : h;
        var source = image.Pixels.Span;
        var output = new byte[source.Length];

        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                // The input pixel (sx, sy) that lands on output (x, y).
                (int sx, int sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };

                source.Slice(((sy * w) + sx) * RgbImage.BytesPerPixel, RgbImage.BytesPerPixel)
                    .CopyTo(output.AsSpan(((y * outWidth) + x) * RgbImage.BytesPerPixel));
            }
        }

        return new RgbImage(outWidth, outHeight, output);
    }

    private static ReadOnlySpan<byte> FindTiffBlock(ReadOnlySpan<byte> file)
    {
        if (file.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]))
        {
            return FromJpeg(file);
        }

        if (file.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return FromPng(file);
        }

        return file.Length >= 12 && file.StartsWith("RIFF"u8) && file.Slice(8, 4).SequenceEqual("WEBP"u8)
            ? StripExifHeader(FromWebp(file))
            : default;
    }

    private static ReadOnlySpan<byte> FromJpeg(ReadOnlySpan<byte> file)
    {
        int position = 2;
        while (position + 4 <= file.Length)
        {
            if (file[position] != 0xFF)
            {
                return default;
            }

            byte marker = file[position + 1];
            if (marker == 0xFF)
            {
                position++; // fill byte
                continue;
            }

            // Markers without a length: TEM, RSTn, SOI, EOI. Metadata precedes the first scan, so stop at SOS/EOI.
            if (marker is 0x01 or (>= 0xD0 and <= 0xD8))
            {
                position += 2;
                continue;
            }

            if (marker is 0xDA or 0xD9)
            {
                return default;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(file.Slice(position + 2, 2));
            if (length < 2 || position + 2 + length > file.Length)
            {
                return default;
            }

            var segment = file.Slice(position + 4, length - 2);
            if (marker == 0xE1 && segment.StartsWith("Exif\0"u8))
            {
                // Pillow keeps the first such segment and strips "Exif\0\0" before parsing.
                return segment.StartsWith("Exif\0\0"u8) ? segment[6..] : default;
            }

            position += 2 + length;
        }

        return default;
    }

    private static ReadOnlySpan<byte> FromPng(ReadOnlySpan<byte> file)
    {
        int position = 8;
        while (position + 12 <= file.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(file.Slice(position, 4));
            var type = file.Slice(position + 4, 4);
            if (length > (uint)(file.Length - position - 12))
            {
                return default;
            }

            if (type.SequenceEqual("eXIf"u8))
            {
                return file.Slice(position + 8, (int)length);
            }

            if (type.SequenceEqual("IEND"u8))
            {
                return default;
            }

            position += 12 + (int)length;
        }

        return default;
    }

    private static ReadOnlySpan<byte> FromWebp(ReadOnlySpan<byte> file)
    {
        int position = 12;
        while (position + 8 <= file.Length)
        {
            var fourCc = file.Slice(position, 4);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(position + 4, 4));
            if (size > (uint)(file.Length - position - 8))
            {
                return default;
            }

            if (fourCc.SequenceEqual("EXIF"u8))
            {
                return file.Slice(position + 8, (int)size);
            }

            position += 8 + (int)size + (int)(size & 1); // chunks are padded to an even size
        }

        return default;
    }

    private static ReadOnlySpan<byte> StripExifHeader(ReadOnlySpan<byte> block) =>
        block.StartsWith("Exif\0\0"u8) ? block[6..] : block;

    /// <summary>Reads tag 0x0112 from IFD0 of a TIFF structure; 1 when absent or not a single integer.</summary>
    private static int ReadOrientation(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
        {
            return 1;
        }

        bool little;
        if (tiff.StartsWith("II*\0"u8))
        {
            little = true;
        }
        else if (tiff.StartsWith("MM\0*"u8))
        {
            little = false;
        }
        else
        {
            return 1;
        }

        uint ifd = U32(tiff[4..], little);
        if (ifd > (uint)(tiff.Length - 2))
        {
            return 1;
        }

        int count = U16(tiff[(int)ifd..], little);
        int orientation = 1;
        for (int i = 0; i < count; i++)
        {
            int entry = (int)ifd + 2 + (12 * i);
            if (entry + 12 > tiff.Length)
            {
                break;
            }

            var e = tiff.Slice(entry, 12);
            if (U16(e, little) != OrientationTag || U32(e[4..], little) != 1)
            {
                continue;
            }

            // A single value fits in the entry itself. Pillow returns any integer type; the last entry wins.
            orientation = U16(e[2..], little) switch
            {
                1 or 6 => e[8],
                3 or 8 => U16(e[8..], little),
                4 or 9 => (int)Math.Min(U32(e[8..], little), int.MaxValue),
                _ => orientation,
            };
        }

        return orientation;
    }

    private static ushort U16(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    private static uint U32(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);
}
