using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;

namespace MmServe.Media.Images;

/// <summary>
/// Builds the ImageSharp <see cref="Configuration"/> used for untrusted images. Unlike
/// <see cref="Configuration.Default"/> it registers only PNG, JPEG, WebP and GIF, so the TIFF/BMP/TGA/PBM
/// decoders (the bulk of historical decoder bugs) are unreachable, and it caps per-buffer allocations.
/// </summary>
internal static class HardenedImageConfiguration
{
    public static Configuration Create(ImageLimits limits)
    {
        // The parameterless/params constructor starts with an empty format registry; only these modules are added.
        var configuration = new Configuration(
            new PngConfigurationModule(),
            new JpegConfigurationModule(),
            new WebpConfigurationModule(),
            new GifConfigurationModule())
        {
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                AllocationLimitMegabytes = limits.AllocationLimitMegabytes,
            }),
        };

        // Metadata is never used for inference, and parsing ICC/EXIF/XMP is extra attack surface
        // (ImageSharp has shipped CVE fixes in its ICC parser), so every decoder skips it.
        var formats = configuration.ImageFormatsManager;
        formats.SetDecoder(PngFormat.Instance, new PngDecoder { IgnoreMetadata = true });
        formats.SetDecoder(JpegFormat.Instance, new JpegDecoder { IgnoreMetadata = true });
        formats.SetDecoder(WebpFormat.Instance, new WebpDecoder { IgnoreMetadata = true });

        // A model consumes one still image; decoding further animation frames is wasted memory and time.
        formats.SetDecoder(GifFormat.Instance, new GifDecoder
        {
            IgnoreMetadata = true,
            DecodingMode = FrameDecodingMode.First,
        });

        return configuration;
    }
}
