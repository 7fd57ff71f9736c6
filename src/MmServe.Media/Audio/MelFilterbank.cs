namespace MmServe.Media.Audio;

/// <summary>
/// HTK-scale triangular filters on the DFT bin frequencies, no area normalisation — the reference
/// recipe's <c>mel_filterbank()</c>. Stored sparsely: each triangle covers a few consecutive bins.
/// </summary>
internal sealed class MelFilterbank
{
    private readonly int[] _firstBin;
    private readonly double[][] _weights;

    public MelFilterbank(LogMelSpec spec)
    {
        int bins = spec.Bins;
        var dense = Dense(spec);
        _firstBin = new int[spec.NMels];
        _weights = new double[spec.NMels][];
        for (int m = 0; m < spec.NMels; m++)
        {
            var row = dense.AsSpan(m * bins, bins);
            int first = row.IndexOfAnyExcept(0.0);
            int last = row.LastIndexOfAnyExcept(0.0);

            // A triangle narrower than the bin spacing can miss every bin; it then yields ln(log_offset).
            _firstBin[m] = Math.Max(first, 0);
            _weights[m] = first < 0 ? [] : row[first..(last + 1)].ToArray();
        }
    }

    public int Count => _weights.Length;

    /// <summary>The dense [n_mels, bins] matrix, row-major, exactly as the reference builds it.</summary>
    public static double[] Dense(LogMelSpec spec)
    {
        int bins = spec.Bins;
        int points = spec.NMels + 2;
        double melMin = HzToMel(spec.FMin);
        double melMax = HzToMel(spec.FMax);

        // numpy.linspace: start + i·step, with the last point set to the stop value exactly.
        double step = (melMax - melMin) / (points - 1);
        var hz = new double[points];
        for (int i = 0; i < points; i++)
        {
            hz[i] = MelToHz(i == points - 1 ? melMax : melMin + (i * step));
        }

        var fb = new double[spec.NMels * bins];
        for (int m = 0; m < spec.NMels; m++)
        {
            double lo = hz[m];
            double center = hz[m + 1];
            double hi = hz[m + 2];
            for (int k = 0; k < bins; k++)
            {
                double f = (double)k * spec.SampleRate / spec.NFft;
                double up = (f - lo) / (center - lo);
                double down = (hi - f) / (hi - center);
                fb[(m * bins) + k] = Math.Max(0.0, Math.Min(up, down));
            }
        }

        return fb;
    }

    /// <summary>Σ_k power[k]·fb[m, k].</summary>
    public double Apply(int mel, ReadOnlySpan<double> power)
    {
        var weights = _weights[mel];
        var slice = power.Slice(_firstBin[mel], weights.Length);
        double sum = 0;
        for (int k = 0; k < weights.Length; k++)
        {
            sum += slice[k] * weights[k];
        }

        return sum;
    }

    internal static double HzToMel(double hz) => 2595.0 * Math.Log10(1.0 + (hz / 700.0));

    internal static double MelToHz(double mel) => 700.0 * (Math.Pow(10.0, mel / 2595.0) - 1.0);
}
