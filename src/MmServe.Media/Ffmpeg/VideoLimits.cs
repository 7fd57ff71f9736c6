namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Bounds for one client video. Duration, frame size and frame count are checked against probe results
/// before anything is decoded, and enforced again while decoding in case the headers lied.
/// </summary>
public sealed record VideoLimits
{
    /// <summary>Maximum encoded size in bytes.</summary>
    public long MaxBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>Maximum duration (the longer of container and video stream).</summary>
    public double MaxSeconds { get; init; } = 60;

    /// <summary>Maximum frames decoded: every frame is decoded and converted, so this bounds CPU time.</summary>
    public int MaxFrames { get; init; } = 1800;

    /// <summary>Maximum width * height of one frame; 4096x4096 RGB24 is 48 MiB per kept frame.</summary>
    public long MaxPixelsPerFrame { get; init; } = 4096L * 4096;

    /// <summary>Wall-clock budget for probing and decoding together; the decoder is killed when it runs out.</summary>
    public double TimeoutSeconds { get; init; } = 30;

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    /// <summary>Throws when a limit is out of range, so misconfiguration fails at startup, not per request.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBytes);

        // Encoded videos arrive in one array.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBytes, Array.MaxLength);
        RequirePositiveFinite(MaxSeconds, nameof(MaxSeconds));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxFrames);

        // ffmpeg is told to stop at MaxFrames + 1.
        ArgumentOutOfRangeException.ThrowIfEqual(MaxFrames, int.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxPixelsPerFrame);

        // Each kept frame is one RGB24 array.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxPixelsPerFrame, Array.MaxLength / 3);
        RequirePositiveFinite(TimeoutSeconds, nameof(TimeoutSeconds));
    }

    private static void RequirePositiveFinite(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be a finite number > 0.");
        }
    }
}
