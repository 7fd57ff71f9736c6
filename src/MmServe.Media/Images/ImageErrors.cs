namespace MmServe.Media.Images;

/// <summary>Client-safe <see cref="MediaError"/>s for images; messages name the limit, never echo exception text.</summary>
internal static class ImageErrors
{
    private const string SupportedFormats = "PNG, JPEG, WebP and GIF";

    public static MediaError Invalid() => new(
        MediaErrorCodes.InvalidImage,
        $"The image could not be decoded: it is corrupt, truncated or not an image. Supported formats are {SupportedFormats}.");

    public static MediaError Truncated() => new(
        MediaErrorCodes.InvalidImage,
        $"The image is truncated: its data ends before the image does. Send the whole file ({SupportedFormats}).");

    public static MediaError UnsupportedFormat(string formatName) => new(
        MediaErrorCodes.UnsupportedImageFormat,
        $"The image format {formatName} is not supported. Supported formats are {SupportedFormats}.");

    public static MediaError UnsupportedFeature() => new(
        MediaErrorCodes.UnsupportedImageFormat,
        $"The image uses a feature of its format that is not supported (for example animated WebP). Supported formats are {SupportedFormats}.");

    public static MediaError TooManyBytes(long actualBytes, long maxBytes) => new(
        MediaErrorCodes.ImageTooLarge,
        $"The encoded image is {actualBytes} bytes; the limit is {maxBytes} bytes.");

    public static MediaError StreamTooLong(long maxBytes) => new(
        MediaErrorCodes.ImageTooLarge,
        $"The encoded image is larger than the limit of {maxBytes} bytes.");

    public static MediaError TooManyPixels(long width, long height, ImageLimits limits) => new(
        MediaErrorCodes.ImageTooLarge,
        $"The image is {width}x{height} pixels; the limits are {limits.MaxWidth} pixels wide, "
        + $"{limits.MaxHeight} pixels high and {limits.MaxPixels} pixels in total.");

    public static MediaError AspectRatio(long width, long height, double maxAspectRatio) => new(
        MediaErrorCodes.ImageAspectRatio,
        $"The image is {width}x{height} pixels; its aspect ratio exceeds the limit of {maxAspectRatio}:1.");

    public static MediaError OverMemoryLimit(int allocationLimitMegabytes) => new(
        MediaErrorCodes.ImageTooLarge,
        $"Decoding the image needs a buffer larger than the {allocationLimitMegabytes} MB limit.");

    public static MediaError NotAnImageMediaType(string mediaType) => new(
        MediaErrorCodes.UnsupportedMediaType,
        $"The data URL media type '{Truncate(mediaType)}' is not an image type (expected image/*).");

    // The media type comes from the client; keep the echoed part short.
    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
