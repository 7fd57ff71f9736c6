using System.Buffers;
using System.Runtime.InteropServices;
using MmServe.Media.Images.Structure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;

namespace MmServe.Media.Images;

/// <summary>
/// Decodes untrusted PNG/JPEG/WebP/GIF bytes to <see cref="RgbImage"/> under <see cref="ImageLimits"/>.
/// The header is identified and checked before any pixel buffer exists, so a tiny file that claims
/// huge dimensions costs nothing. Expected failures come back as <see cref="MediaError"/> values.
/// </summary>
/// <remarks>
/// Thread-safe. Create one per process (e.g. a DI singleton): it owns a pooling ImageSharp allocator.
/// </remarks>
public sealed class SafeImageDecoder
{
    private const int StreamChunkBytes = 81920;
    private readonly Configuration _configuration;

    public SafeImageDecoder()
        : this(new ImageLimits())
    {
    }

    public SafeImageDecoder(ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        Limits = limits;
        _configuration = HardenedImageConfiguration.Create(limits);
    }

    public ImageLimits Limits { get; }

    /// <summary>Visible to tests so they can assert which formats are registered.</summary>
    internal Configuration Configuration => _configuration;

    public MediaResult<RgbImage> Decode(ReadOnlyMemory<byte> encoded) => Decode(encoded, ImageDecodeOptions.Default);

    public MediaResult<RgbImage> Decode(ReadOnlyMemory<byte> encoded, ImageDecodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (encoded.IsEmpty)
        {
            return ImageErrors.Invalid();
        }

        if (encoded.Length > Limits.MaxBytes)
        {
            return ImageErrors.TooManyBytes(encoded.Length, Limits.MaxBytes);
        }

        if (CheckStructure(encoded) is { } structureError)
        {
            return structureError;
        }

        try
        {
            using var stream = OpenReadOnlyStream(encoded);
            var header = IdentifyAndCheck(stream, encoded.Span);
            if (!header.IsSuccess)
            {
                return header.Error;
            }

            stream.Position = 0;
            var decoder = _configuration.ImageFormatsManager.FindDecoder(header.Value);
            using var image = Image.Load<Rgb24>(_configuration, stream, decoder);

            // Defence in depth: a decoder must not produce something larger than its header claimed.
            if (CheckDimensions(image.Width, image.Height) is { } error)
            {
                return error;
            }

            // Loading as Rgb24 keeps R, G, B as stored and drops alpha without compositing,
            // which is what PIL's convert("RGB") does and what the model was trained on.
            var pixels = new byte[image.Width * image.Height * RgbImage.BytesPerPixel];
            image.CopyPixelDataTo(pixels);
            var decoded = new RgbImage(image.Width, image.Height, pixels);
            return options.ApplyExifOrientation ? Orient(decoded, encoded.Span) : decoded;
        }
        catch (Exception exception) when (ToMediaError(exception) is { } error)
        {
            return error;
        }
    }

    /// <summary>Reads at most <see cref="ImageLimits.MaxBytes"/> from <paramref name="stream"/>, then decodes.</summary>
    public MediaResult<RgbImage> Decode(Stream stream) => Decode(stream, ImageDecodeOptions.Default);

    /// <inheritdoc cref="Decode(Stream)"/>
    public MediaResult<RgbImage> Decode(Stream stream, ImageDecodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = ReadBounded(stream);
        return bytes is { } encoded ? Decode(encoded, options) : ImageErrors.StreamTooLong(Limits.MaxBytes);
    }

    /// <summary>
    /// Like <see cref="Decode(Stream)"/> but reads asynchronously (ASP.NET Core request bodies forbid
    /// synchronous reads). Decoding itself is CPU-bound and runs synchronously.
    /// </summary>
    public Task<MediaResult<RgbImage>> DecodeAsync(Stream stream, CancellationToken cancellationToken = default) =>
        DecodeAsync(stream, ImageDecodeOptions.Default, cancellationToken);

    /// <inheritdoc cref="DecodeAsync(Stream, CancellationToken)"/>
    public async Task<MediaResult<RgbImage>> DecodeAsync(Stream stream, ImageDecodeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = await ReadBoundedAsync(stream, cancellationToken).ConfigureAwait(false);
        return bytes is { } encoded ? Decode(encoded, options) : ImageErrors.StreamTooLong(Limits.MaxBytes);
    }

    /// <summary>Decodes a <c>data:image/...;base64,</c> URL as sent in an OpenAI-style <c>image_url</c> part.</summary>
    public MediaResult<RgbImage> DecodeDataUrl(string dataUrl) => DecodeDataUrl(dataUrl, ImageDecodeOptions.Default);

    /// <inheritdoc cref="DecodeDataUrl(string)"/>
    public MediaResult<RgbImage> DecodeDataUrl(string dataUrl, ImageDecodeOptions options)
    {
        var parsed = DataUrl.Parse(dataUrl, Limits.MaxBytes);
        if (!parsed.IsSuccess)
        {
            return parsed.Error;
        }

        if (!parsed.Value.MediaType.StartsWith("image/", StringComparison.Ordinal))
        {
            return ImageErrors.NotAnImageMediaType(parsed.Value.MediaType);
        }

        // The declared subtype is only a hint: the format is sniffed from the bytes, so a mislabelled
        // image (image/jpeg holding a PNG) still decodes, and a lie cannot select a different decoder.
        return Decode(parsed.Value.Data, options);
    }

    /// <summary>
    /// EXIF orientation, read by <see cref="ExifOrientation"/> from the container (ImageSharp's metadata parsers stay
    /// off). A 90-degree turn swaps width and height, so the limits are checked again for the turned image.
    /// </summary>
    private MediaResult<RgbImage> Orient(RgbImage decoded, ReadOnlySpan<byte> encoded)
    {
        int orientation = ExifOrientation.Read(encoded);
        if (orientation == 1)
        {
            return decoded;
        }

        if (ExifOrientation.SwapsAxes(orientation) && CheckDimensions(decoded.Height, decoded.Width) is { } error)
        {
            return error;
        }

        return ExifOrientation.Apply(decoded, orientation);
    }

    /// <summary>
    /// Every size the file declares within the limits, and all of its data present (see <see cref="ImageStructure"/>);
    /// the PNG data check inflates the stream, so it runs only once the sizes are known to be acceptable.
    /// </summary>
    private MediaError? CheckStructure(ReadOnlyMemory<byte> encoded)
    {
        if (ImageStructure.Read(encoded.Span) is not { } structure)
        {
            return null;
        }

        foreach (var size in structure.Sizes)
        {
            if (CheckDimensions(size.Width, size.Height) is { } error)
            {
                return error;
            }
        }

        return structure.Truncated || (structure.Format == ImageContainer.Png && !PngImageData.IsComplete(encoded))
            ? ImageErrors.Truncated()
            : null;
    }

    private MediaResult<IImageFormat> IdentifyAndCheck(Stream stream, ReadOnlySpan<byte> encoded)
    {
        // Identify parses headers only; no pixel buffer is allocated.
        var info = Image.Identify(_configuration, stream, out IImageFormat? format);
        if (info is null || format is null)
        {
            return UnsupportedFormatSniffer.Detect(encoded) is { } known
                ? ImageErrors.UnsupportedFormat(known)
                : ImageErrors.Invalid();
        }

        return CheckDimensions(info.Width, info.Height) is { } error
            ? error
            : MediaResult<IImageFormat>.Success(format);
    }

    private MediaError? CheckDimensions(long width, long height)
    {
        if (width <= 0 || height <= 0)
        {
            return ImageErrors.Invalid();
        }

        // Declared sizes fit in 32 bits, so the product cannot overflow.
        if (width > Limits.MaxWidth || height > Limits.MaxHeight || width * height > Limits.MaxPixels)
        {
            return ImageErrors.TooManyPixels(width, height, Limits);
        }

        double aspectRatio = (double)Math.Max(width, height) / Math.Min(width, height);
        return aspectRatio > Limits.MaxAspectRatio ? ImageErrors.AspectRatio(width, height, Limits.MaxAspectRatio) : null;
    }

    /// <summary>
    /// Maps exceptions that malformed or hostile input can provoke to client errors. Anything else
    /// (e.g. OutOfMemoryException, bugs in this class) propagates.
    /// </summary>
    private MediaError? ToMediaError(Exception exception) => exception switch
    {
        // ImageSharp wraps the allocator's refusal in InvalidImageContentException, so look one level down.
        // InvalidMemoryOperationException derives from InvalidOperationException: test it first.
        InvalidMemoryOperationException or { InnerException: InvalidMemoryOperationException }
            => ImageErrors.OverMemoryLimit(Limits.AllocationLimitMegabytes),
        UnknownImageFormatException or InvalidImageContentException or ImageFormatException => ImageErrors.Invalid(),
        NotSupportedException => ImageErrors.UnsupportedFeature(),

        // Decoders are not perfect on adversarial input; a crafted file must be a 400, not a 500.
        EndOfStreamException or IndexOutOfRangeException or ArgumentException or OverflowException
            or InvalidOperationException => ImageErrors.Invalid(),
        _ => null,
    };

    private static MemoryStream OpenReadOnlyStream(ReadOnlyMemory<byte> encoded) =>
        MemoryMarshal.TryGetArray(encoded, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(encoded.ToArray(), writable: false);

    /// <returns>The bytes, or null as soon as more than <see cref="ImageLimits.MaxBytes"/> have been seen.</returns>
    private ReadOnlyMemory<byte>? ReadBounded(Stream stream)
    {
        if (stream.CanSeek && stream.Length - stream.Position > Limits.MaxBytes)
        {
            return null;
        }

        var chunk = ArrayPool<byte>.Shared.Rent(StreamChunkBytes);
        try
        {
            var buffer = new MemoryStream();
            int read;
            while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + read > Limits.MaxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (stream.CanSeek && stream.Length - stream.Position > Limits.MaxBytes)
        {
            return null;
        }

        var chunk = ArrayPool<byte>.Shared.Rent(StreamChunkBytes);
        try
        {
            var buffer = new MemoryStream();
            int read;
            while ((read = await stream.ReadAsync(chunk.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > Limits.MaxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
