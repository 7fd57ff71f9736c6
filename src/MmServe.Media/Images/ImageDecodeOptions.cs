namespace MmServe.Media.Images;

/// <summary>How <see cref="SafeImageDecoder"/> turns a file into pixels beyond plain decoding.</summary>
public sealed record ImageDecodeOptions
{
    /// <summary>Plain decoding: stored pixel order, alpha dropped.</summary>
    public static ImageDecodeOptions Default { get; } = new();

    /// <summary>
    /// Rotate/flip by the EXIF Orientation tag (JPEG APP1, PNG eXIf, WebP EXIF), as PIL's
    /// <c>ImageOps.exif_transpose</c> in transformers' <c>load_image</c> does. The oriented size is checked
    /// against the same <see cref="ImageLimits"/>.
    /// </summary>
    public bool ApplyExifOrientation { get; init; }
}
