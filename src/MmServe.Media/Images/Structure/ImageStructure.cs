namespace MmServe.Media.Images.Structure;

/// <summary>A size a file declares for its image (or canvas, or frame), before any decoder has run.</summary>
/// <param name="Width">As declared; up to 2^32 - 1 for PNG.</param>
/// <param name="Height">As declared.</param>
internal readonly record struct DeclaredSize(long Width, long Height);

/// <summary>
/// What an image file's own structure says, read from its bytes without a decoder: every size it declares and whether
/// its data ends before the image does. Decoders look at only some of the sizes (ImageSharp ignores a WebP VP8X canvas
/// and a GIF frame larger than its screen) and fill what a truncated file lacks (grey for JPEG), so both are checked here.
/// </summary>
/// <param name="Format">The container the magic bytes name.</param>
/// <param name="Sizes">Every declared size; the limits apply to each.</param>
/// <param name="Truncated">The file ends inside a segment, chunk or frame the image needs.</param>
internal sealed record ImageStructure(ImageContainer Format, IReadOnlyList<DeclaredSize> Sizes, bool Truncated)
{
    /// <summary>The structure of a PNG, JPEG, GIF or WebP file; null for anything else (left to the decoder to refuse).</summary>
    public static ImageStructure? Read(ReadOnlySpan<byte> bytes) => ImageContainerSniffer.Detect(bytes) switch
    {
        ImageContainer.Png => PngStructure.Read(bytes),
        ImageContainer.Jpeg => JpegStructure.Read(bytes),
        ImageContainer.Gif => GifStructure.Read(bytes),
        ImageContainer.Webp => WebpStructure.Read(bytes),
        _ => null,
    };
}

/// <summary>The image containers this server decodes.</summary>
internal enum ImageContainer
{
    None,
    Png,
    Jpeg,
    Gif,
    Webp,
}

/// <summary>Names the decodable container from its magic bytes.</summary>
internal static class ImageContainerSniffer
{
    public static ImageContainer Detect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ImageContainer.Png;
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ImageContainer.Jpeg;
        }

        if (bytes.StartsWith("GIF87a"u8) || bytes.StartsWith("GIF89a"u8))
        {
            return ImageContainer.Gif;
        }

        return bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8)
            ? ImageContainer.Webp
            : ImageContainer.None;
    }
}
