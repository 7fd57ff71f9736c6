using MmServe.Media.Images;

namespace MmServe.Api.Serving;

/// <summary>Configuration section "Limits": per-request bounds enforced at the edge.</summary>
internal sealed class LimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Most images one request may carry; counted before any image is decoded.</summary>
    public int MaxImagesPerRequest { get; set; } = 8;

    /// <summary>Largest accepted request body (Kestrel's MaxRequestBodySize); larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Bounds for each decoded image (encoded bytes, dimensions, pixels, aspect ratio).</summary>
    public ImageLimits Image { get; set; } = new();
}
