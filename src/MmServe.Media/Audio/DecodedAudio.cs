namespace MmServe.Media.Audio;

/// <summary>A decoded clip: mono float32 samples (channels averaged), nominal range [-1, 1].</summary>
public sealed class DecodedAudio
{
    public DecodedAudio(ReadOnlyMemory<float> samples, int sampleRate, int sourceChannels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceChannels);
        Samples = samples;
        SampleRate = sampleRate;
        SourceChannels = sourceChannels;
    }

    public ReadOnlyMemory<float> Samples { get; }

    /// <summary>Samples per second, as stored in the file (not yet resampled).</summary>
    public int SampleRate { get; }

    /// <summary>Channel count of the file before the down-mix; informative.</summary>
    public int SourceChannels { get; }

    public double DurationSeconds => (double)Samples.Length / SampleRate;

    public override string ToString() => $"DecodedAudio {Samples.Length} samples @ {SampleRate} Hz (from {SourceChannels} ch)";
}
