namespace MmServe.Media.Audio;

/// <summary>
/// Log-mel features exactly as the reference recipe's <c>log_mel</c> (tools/reference-model/mmtiny/features.py):
/// pad/cut to <see cref="LogMelSpec.ClipSamples"/>, frame without centring, periodic Hann window, power
/// spectrum, HTK mel filterbank, <c>ln(mel + log_offset)</c>. Computed in double, returned as float32
/// <c>[n_mels, frames]</c> row-major (mels outer).
/// </summary>
/// <remarks>
/// The input must already be mono at <see cref="LogMelSpec.SampleRate"/> (see <see cref="Resampler"/>).
/// Window, DFT table and filterbank are built once per instance; the instance is immutable and thread-safe.
/// </remarks>
public sealed class LogMelSpectrogram
{
    private readonly double[] _window;
    private readonly RealDftTable _dft;
    private readonly MelFilterbank _filterbank;

    public LogMelSpectrogram(LogMelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Spec = spec;
        _window = new double[spec.NFft];
        for (int n = 0; n < spec.NFft; n++)
        {
            _window[n] = 0.5 - (0.5 * Math.Cos(2.0 * Math.PI * n / spec.NFft));
        }

        _dft = new RealDftTable(spec.NFft);
        _filterbank = new MelFilterbank(spec);
    }

    public LogMelSpec Spec { get; }

    public int MelCount => Spec.NMels;

    public int FrameCount => Spec.FrameCount;

    /// <summary>MelCount · FrameCount.</summary>
    public int OutputLength => MelCount * FrameCount;

    public float[] Compute(ReadOnlySpan<float> audio)
    {
        var features = new float[OutputLength];
        Compute(audio, features);
        return features;
    }

    /// <summary>Writes <see cref="OutputLength"/> values, e.g. into one item of a batch tensor.</summary>
    public void Compute(ReadOnlySpan<float> audio, Span<float> destination)
    {
        if (destination.Length < OutputLength)
        {
            throw new ArgumentException($"Destination holds {destination.Length} values; {OutputLength} are needed.", nameof(destination));
        }

        int nFft = Spec.NFft;
        int hop = Spec.HopLength;
        int frames = FrameCount;
        int used = Math.Min(audio.Length, Spec.ClipSamples);
        var frame = new double[nFft];
        var power = new double[_dft.Bins];
        for (int t = 0; t < frames; t++)
        {
            int start = t * hop;

            // Frames wholly inside the zero padding have zero power; skip their DFT.
            if (start >= used)
            {
                power.AsSpan().Clear();
            }
            else
            {
                for (int n = 0; n < nFft; n++)
                {
                    int index = start + n;
                    frame[n] = index < used ? audio[index] * _window[n] : 0.0;
                }

                _dft.PowerSpectrum(frame, power);
            }

            for (int m = 0; m < MelCount; m++)
            {
                destination[(m * frames) + t] = (float)Math.Log(_filterbank.Apply(m, power) + Spec.LogOffset);
            }
        }
    }
}
