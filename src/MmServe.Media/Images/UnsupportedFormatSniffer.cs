namespace MmServe.Media.Images;

/// <summary>
/// Names well-known image formats this server deliberately does not decode, from their magic bytes alone,
/// so clients get "unsupported_image_format" instead of "invalid_image". No decoder is involved.
/// </summary>
internal static class UnsupportedFormatSniffer
{
    private static readonly (string Name, byte[] Magic)[] Prefixes =
    [
        ("TIFF", "II*\0"u8.ToArray()),
        ("TIFF", "MM\0*"u8.ToArray()),
        ("BigTIFF", "II+\0"u8.ToArray()),
        ("BigTIFF", "MM\0+"u8.ToArray()),
        ("ICO", [0x00, 0x00, 0x01, 0x00]),
        ("PSD", "8BPS"u8.ToArray()),
        ("JPEG XL", [0xFF, 0x0A]),
        ("JPEG XL", [0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20, 0x0D, 0x0A, 0x87, 0x0A]),
        ("JPEG 2000", [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A]),
        ("JPEG 2000", [0xFF, 0x4F, 0xFF, 0x51]),
        ("QOI", "qoif"u8.ToArray()),
    ];

    public static string? Detect(ReadOnlySpan<byte> header)
    {
        foreach (var (name, magic) in Prefixes)
        {
            if (header.StartsWith(magic))
            {
                return name;
            }
        }

        // "BM" alone is too common in text; a BMP file header also has four reserved zero bytes at offset 6.
        if (header.Length >= 14 && header.StartsWith("BM"u8) && header.Slice(6, 4).SequenceEqual("\0\0\0\0"u8))
        {
            return "BMP";
        }

        // ISO base media file ("....ftyp") with an image brand.
        if (header.Length >= 12 && header.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            return "HEIF/AVIF";
        }

        return null;
    }
}
