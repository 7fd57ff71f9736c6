namespace MmServe.Media.Audio;

/// <summary>
/// The bundle's log-mel front end (docs/model-bundle.md, <c>preprocessing.kind = "log_mel"</c>). The
/// defaults are mmserve-tiny's values. Only the variants the reference recipe defines are implemented;
/// <see cref="Validate"/> rejects the rest at model load instead of computing something else.
/// </summary>
public sealed record LogMelSpec
{
    public const string HannPeriodic = "hann_periodic";
    public const string Htk = "htk";
    public const string NaturalLog = "ln";

    /// <summary>Caps the DFT table (bins·n_fft·16 bytes: 33 MB at 2048).</summary>
    public const int MaxNFft = 2048;

    public const int MaxMels = 512;

    public const double MaxClipSeconds = 600;

    public int SampleRate { get; init; } = 16000;

    /// <summary>The signal is zero-padded or cut to <c>(int)(ClipSeconds · SampleRate)</c> samples.</summary>
    public double ClipSeconds { get; init; } = 2.0;

    public int NFft { get; init; } = 400;

    /// <summary>Must equal <see cref="NFft"/>.</summary>
    public int WinLength { get; init; } = 400;

    public int HopLength { get; init; } = 160;

    public string Window { get; init; } = HannPeriodic;

    /// <summary>Must be false: frames start at sample 0, no reflection padding.</summary>
    public bool Center { get; init; }

    public int NMels { get; init; } = 40;

    public double FMin { get; init; }

    public double FMax { get; init; } = 8000;

    public string MelScale { get; init; } = Htk;

    /// <summary>Must be null: triangles are not area-normalised.</summary>
    public string? MelNorm { get; init; }

    /// <summary>Must be 2: the power spectrum.</summary>
    public double Power { get; init; } = 2.0;

    public string Log { get; init; } = NaturalLog;

    /// <summary>Added before the logarithm so that silence stays finite.</summary>
    public double LogOffset { get; init; } = 1e-6;

    /// <summary>Samples after padding/cutting: Python's <c>int(clip_seconds * sample_rate)</c>.</summary>
    public int ClipSamples => (int)(ClipSeconds * SampleRate);

    /// <summary><c>1 + (N - n_fft) / hop</c>, integer division.</summary>
    public int FrameCount => 1 + ((ClipSamples - NFft) / HopLength);

    public int Bins => (NFft / 2) + 1;

    /// <summary>Throws <see cref="ArgumentException"/> describing the first invalid field; called at model load.</summary>
    public void Validate()
    {
        Require(SampleRate is > 0 and <= Resampler.MaxRate, $"sample_rate {SampleRate} must be in 1..{Resampler.MaxRate}");
        Require(NFft is >= 2 and <= MaxNFft, $"n_fft {NFft} must be in 2..{MaxNFft}");
        Require(WinLength == NFft, $"win_length {WinLength} must equal n_fft {NFft}");
        Require(HopLength > 0, $"hop_length {HopLength} must be positive");
        Require(
            double.IsFinite(ClipSeconds) && ClipSeconds > 0 && ClipSeconds <= MaxClipSeconds,
            $"clip_seconds {ClipSeconds} must be in (0, {MaxClipSeconds}]");
        Require(ClipSamples >= NFft, $"clip_seconds x sample_rate = {ClipSamples} samples must hold at least one n_fft frame");
        Require(string.Equals(Window, HannPeriodic, StringComparison.Ordinal), $"window '{Window}' is not supported; expected '{HannPeriodic}'");
        Require(!Center, "center must be false");
        Require(NMels is > 0 and <= MaxMels, $"n_mels {NMels} must be in 1..{MaxMels}");
        Require(
            double.IsFinite(FMin) && double.IsFinite(FMax) && FMin >= 0 && FMin < FMax && FMax <= SampleRate / 2.0,
            $"f_min {FMin} and f_max {FMax} must satisfy 0 <= f_min < f_max <= sample_rate / 2");
        Require(string.Equals(MelScale, Htk, StringComparison.Ordinal), $"mel_scale '{MelScale}' is not supported; expected '{Htk}'");
        Require(MelNorm is null, $"mel_norm '{MelNorm}' is not supported; expected null");
        Require(Power == 2.0, $"power {Power} is not supported; expected 2.0");
        Require(string.Equals(Log, NaturalLog, StringComparison.Ordinal), $"log '{Log}' is not supported; expected '{NaturalLog}'");
        Require(double.IsFinite(LogOffset) && LogOffset > 0, $"log_offset {LogOffset} must be finite and positive");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"Log-mel preprocessing: {message}.");
        }
    }
}
