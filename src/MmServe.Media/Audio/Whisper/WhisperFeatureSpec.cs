namespace MmServe.Media.Audio.Whisper;

/// <summary>
/// A <c>WhisperFeatureExtractor</c>'s preprocessor_config.json fields. Defaults are openai/whisper-*'s
/// (80 mels; large-v3 uses 128). Without a <c>mel_filters</c> array the filters are computed (slaney scale
/// and norm, 0–8000 Hz), as transformers.js and HF Python do.
/// </summary>
public sealed record WhisperFeatureSpec
{
    public int FeatureSize { get; init; } = 80;

    public int SamplingRate { get; init; } = 16000;

    public int HopLength { get; init; } = 160;

    public int NFft { get; init; } = 400;

    /// <summary>Samples after zero padding or cutting (30 s).</summary>
    public int NSamples { get; init; } = 480000;

    /// <summary>Frames of the output (the last STFT frame is dropped).</summary>
    public int NbMaxFrames { get; init; } = 3000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field; called at model load.</summary>
    public void Validate()
    {
        Require(FeatureSize is > 0 and <= LogMelSpec.MaxMels, $"feature_size {FeatureSize} must be in 1..{LogMelSpec.MaxMels}");
        Require(SamplingRate is > 0 and <= Resampler.MaxRate, $"sampling_rate {SamplingRate} must be in 1..{Resampler.MaxRate}");
        Require(NFft is >= 4 and <= LogMelSpec.MaxNFft, $"n_fft {NFft} must be in 4..{LogMelSpec.MaxNFft}");
        Require(HopLength > 0, $"hop_length {HopLength} must be positive");
        Require(NSamples >= NFft && NSamples <= SamplingRate * (int)LogMelSpec.MaxClipSeconds, $"n_samples {NSamples} must be in {NFft}..{SamplingRate * (int)LogMelSpec.MaxClipSeconds}");
        Require(NbMaxFrames > 0 && NbMaxFrames <= 1 + (NSamples / HopLength), $"nb_max_frames {NbMaxFrames} must be in 1..{1 + (NSamples / HopLength)}");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"preprocessor_config.json: {message}.");
        }
    }
}
