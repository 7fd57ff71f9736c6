namespace MmServe.Media.Audio.Whisper;

/// <summary>
/// Whisper's log-mel <c>input_features</c> as transformers.js 4.3.1's <c>WhisperFeatureExtractor</c> computes them
/// (identical to HF Python's numpy path): 16 kHz mono samples cut or zero-padded to <c>n_samples</c>; reflect padding
/// of n_fft/2 on both sides; frames of n_fft every hop with a periodic Hann window; |rfft|² stored as float32;
/// mel = slaney filters × power; only the first <c>nb_max_frames</c> frames (the last STFT frame is dropped);
/// <c>log10(max(mel, 1e-10))</c>; floor at (global max − 8); <c>(x + 4) / 4</c>. Output float32 [mels, frames],
/// row-major (mels outer). Sums are taken in double, values rounded to float32 where the reference stores them.
/// </summary>
/// <remarks>Immutable and thread-safe: the window, DFT table and filters are built once per instance.</remarks>
public sealed class WhisperFeatureExtractor
{
    private const float MelFloor = 1e-10f;

    private readonly double[] _window;
    private readonly RealDftTable _dft;
    private readonly double[] _filters;
    private readonly int _bins;

    public WhisperFeatureExtractor(WhisperFeatureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Spec = spec;
        _window = new double[spec.NFft];
        for (int n = 0; n < spec.NFft; n++)
        {
            // hanning(n_fft + 1)[..n_fft]: 0.5 − 0.5·cos(2πn / n_fft).
            _window[n] = 0.5 - (0.5 * Math.Cos(2.0 * Math.PI * n / spec.NFft));
        }

        _dft = new RealDftTable(spec.NFft);
        _bins = _dft.Bins;
        _filters = WhisperMelFilters.Create(_bins, spec.FeatureSize, 0.0, 8000.0, spec.SamplingRate);
    }

    public WhisperFeatureSpec Spec { get; }

    public int MelCount => Spec.FeatureSize;

    public int FrameCount => Spec.NbMaxFrames;

    /// <summary>MelCount · FrameCount.</summary>
    public int OutputLength => MelCount * FrameCount;

    public float[] Compute(ReadOnlySpan<float> samples)
    {
        var features = new float[OutputLength];
        Compute(samples, features);
        return features;
    }

    /// <summary>Writes <see cref="OutputLength"/> values, e.g. into one item of a batch tensor.</summary>
    public void Compute(ReadOnlySpan<float> samples, Span<float> destination)
    {
        if (destination.Length < OutputLength)
        {
            throw new ArgumentException($"Destination holds {destination.Length} values; {OutputLength} are needed.", nameof(destination));
        }

        Compute(samples, Spec.NSamples, FrameCount, destination[..OutputLength]);
    }

    /// <summary>Frames of a clip's features at its own length: floor(samples / hop), at most nb_max_frames.</summary>
    public int FramesAtLength(int samples) => Math.Min(samples / Spec.HopLength, Spec.NbMaxFrames);

    /// <summary>
    /// The features of a clip at its own length, as transformers.js computes them when called with
    /// <c>max_length</c> = the clip's length (UltravoxProcessor): no zero padding to n_samples, and
    /// <see cref="FramesAtLength"/> frames, so [mels, frames] row-major. The clip needs more than n_fft / 2 samples
    /// (reflect padding) and at most n_samples.
    /// </summary>
    public float[] ComputeAtLength(ReadOnlySpan<float> samples)
    {
        if (samples.Length <= Spec.NFft / 2 || samples.Length > Spec.NSamples)
        {
            throw new ArgumentException($"A clip of {samples.Length} samples is outside {(Spec.NFft / 2) + 1}..{Spec.NSamples}.", nameof(samples));
        }

        int frames = FramesAtLength(samples.Length);
        var features = new float[MelCount * frames];
        Compute(samples, samples.Length, frames, features);
        return features;
    }

    /// <summary>The samples cut or zero-padded to <paramref name="length"/>; <paramref name="frames"/> output frames.</summary>
    private void Compute(ReadOnlySpan<float> samples, int length, int frames, Span<float> output)
    {
        int nFft = Spec.NFft;
        int hop = Spec.HopLength;
        int pad = nFft / 2;
        var padded = Pad(samples, length, pad);

        var frame = new double[nFft];
        var power = new double[_bins];
        var powerFloat = new double[_bins];
        float logMax = float.NegativeInfinity;
        for (int t = 0; t < frames; t++)
        {
            var window = padded.AsSpan(t * hop, nFft);
            if (window.IndexOfAnyExcept(0f) < 0)
            {
                // A frame wholly inside the zero padding: zero power, mel floored.
                powerFloat.AsSpan().Clear();
            }
            else
            {
                for (int n = 0; n < nFft; n++)
                {
                    frame[n] = window[n] * _window[n];
                }

                _dft.PowerSpectrum(frame, power);
                for (int k = 0; k < _bins; k++)
                {
                    powerFloat[k] = (float)power[k];
                }
            }

            for (int m = 0; m < MelCount; m++)
            {
                var filter = _filters.AsSpan(m * _bins, _bins);
                double sum = 0;
                for (int k = 0; k < _bins; k++)
                {
                    sum += filter[k] * powerFloat[k];
                }

                float mel = Math.Max(MelFloor, (float)sum);
                float log = (float)Math.Log10(mel);
                output[(m * frames) + t] = log;
                logMax = Math.Max(logMax, log);
            }
        }

        double threshold = logMax - 8.0;
        for (int i = 0; i < output.Length; i++)
        {
            output[i] = (float)((Math.Max(output[i], threshold) + 4.0) / 4.0);
        }
    }

    /// <summary>Cut or zero-pad to <paramref name="length"/>, then numpy-style reflect padding (edge not repeated).</summary>
    private static float[] Pad(ReadOnlySpan<float> samples, int length, int pad)
    {
        var padded = new float[length + (2 * pad)];
        int used = Math.Min(samples.Length, length);
        samples[..used].CopyTo(padded.AsSpan(pad));
        int last = length - 1;
        for (int i = 1; i <= pad; i++)
        {
            padded[pad - i] = padded[pad + i];
            padded[pad + last + i] = padded[pad + last - i];
        }

        return padded;
    }
}
