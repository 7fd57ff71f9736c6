namespace MmServe.Media.Images;

/// <summary>
/// Bounds applied to every client image before and while it is decoded. The defaults admit ordinary
/// photos and screenshots while capping the memory a single request can make the server allocate.
/// </summary>
public sealed record ImageLimits
{
    /// <summary>Maximum encoded size in bytes (also bounds a base64 data: URL payload).</summary>
    public long MaxBytes { get; init; } = 20 * 1024 * 1024;

    public int MaxWidth { get; init; } = 8192;

    public int MaxHeight { get; init; } = 8192;

    /// <summary>Maximum width * height; 40 MP of RGB24 is 120 MB of decoded pixels.</summary>
    public long MaxPixels { get; init; } = 40_000_000;

    /// <summary>Maximum of longer side / shorter side; extreme strips are almost always attacks or mistakes.</summary>
    public double MaxAspectRatio { get; init; } = 50;

    /// <summary>
    /// Per-buffer cap handed to ImageSharp's allocator: a last line of defence should a decoder
    /// allocate more than the header promised.
    /// </summary>
    public int AllocationLimitMegabytes { get; init; } = 256;

    /// <summary>Throws when a limit is non-positive, so misconfiguration fails at startup, not per request.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBytes);

        // Encoded images are held in one array.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBytes, Array.MaxLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxPixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(AllocationLimitMegabytes);
        if (!(MaxAspectRatio >= 1) || double.IsInfinity(MaxAspectRatio))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAspectRatio), MaxAspectRatio, "Must be a finite number >= 1.");
        }
    }
}
