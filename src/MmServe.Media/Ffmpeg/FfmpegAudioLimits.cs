namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Bounds for compressed client audio decoded through ffmpeg. The duration limit is per call
/// (<see cref="FfmpegAudioDecoder.DecodeAsync"/>) because it depends on the model; these do not.
/// Defaults match <see cref="Audio.AudioLimits"/> so WAV and compressed clips are held to the same bounds.
/// </summary>
public sealed record FfmpegAudioLimits
{
    /// <summary>Maximum encoded size in bytes.</summary>
    public long MaxBytes { get; init; } = 25 * 1024 * 1024;

    /// <summary>Maximum sample rate in Hz; also bounds the decoded size, which is sized from the rate.</summary>
    public int MaxSampleRate { get; init; } = 192_000;

    public int MaxChannels { get; init; } = 8;

    /// <summary>Wall-clock budget for probing and decoding together; the decoder is killed when it runs out.</summary>
    public double TimeoutSeconds { get; init; } = 30;

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    /// <summary>Throws when a limit is out of range, so misconfiguration fails at startup, not per request.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBytes);

        // Encoded clips arrive in one array.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBytes, Array.MaxLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSampleRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxChannels);
        if (!(TimeoutSeconds > 0) || double.IsInfinity(TimeoutSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(TimeoutSeconds), TimeoutSeconds, "Must be a finite number > 0.");
        }
    }
}
