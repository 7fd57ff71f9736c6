namespace MmServe.Media.Audio;

/// <summary>
/// Bounds applied to every client audio clip. They are checked against header values before any sample
/// buffer exists, so a small file whose header lies cannot make the server allocate.
/// </summary>
public sealed record AudioLimits
{
    /// <summary>Maximum encoded size in bytes: 25 MiB holds ~13 minutes of 16 kHz 16-bit mono.</summary>
    public long MaxBytes { get; init; } = 25 * 1024 * 1024;

    /// <summary>
    /// Maximum duration. The decoded mono buffer is at most MaxSeconds * MaxSampleRate floats
    /// (30 s at 192 kHz = 23 MB), however the bytes are laid out.
    /// </summary>
    public double MaxSeconds { get; init; } = 30;

    public int MaxChannels { get; init; } = 8;

    /// <summary>Maximum sample rate in Hz; 192 kHz is the highest rate in common studio use.</summary>
    public int MaxSampleRate { get; init; } = 192_000;

    /// <summary>Throws when a limit is out of range, so misconfiguration fails at startup, not per request.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBytes);

        // Encoded clips are held in one array.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBytes, Array.MaxLength);
        if (!(MaxSeconds > 0) || double.IsInfinity(MaxSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSeconds), MaxSeconds, "Must be a finite number > 0.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxChannels);

        // WAV stores the channel count in 16 bits.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxChannels, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSampleRate);

        // The decoded mono buffer is one float array.
        if (MaxSeconds * MaxSampleRate > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSeconds), MaxSeconds, "MaxSeconds * MaxSampleRate must fit in one array.");
        }
    }
}
