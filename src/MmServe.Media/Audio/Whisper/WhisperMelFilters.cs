namespace MmServe.Media.Audio.Whisper;

/// <summary>
/// Whisper's mel filters as transformers.js's <c>mel_filter_bank(bins, mels, 0, 8000, sr, 'slaney', 'slaney')</c>
/// (= librosa's and HF Python's): slaney mel scale (linear below 1 kHz, logarithmic above), triangles on the FFT bin
/// frequencies <c>linspace(0, floor(sr/2), bins)</c>, each scaled by <c>2 / (f[i+2] − f[i])</c>. Row-major [mels, bins].
/// </summary>
internal static class WhisperMelFilters
{
    private const double MinLogHertz = 1000.0;
    private const double MinLogMel = 15.0;
    private static readonly double LogStep = Math.Log(6.4) / 27.0;

    public static double[] Create(int bins, int mels, double minHz, double maxHz, int sampleRate)
    {
        var melFreqs = Linspace(HertzToMel(minHz), HertzToMel(maxHz), mels + 2);
        var filterFreqs = new double[melFreqs.Length];
        for (int i = 0; i < melFreqs.Length; i++)
        {
            filterFreqs[i] = MelToHertz(melFreqs[i]);
        }

        var fftFreqs = Linspace(0, Math.Floor(sampleRate / 2.0), bins);
        var filters = new double[mels * bins];
        for (int m = 0; m < mels; m++)
        {
            double lowerWidth = filterFreqs[m + 1] - filterFreqs[m];
            double upperWidth = filterFreqs[m + 2] - filterFreqs[m + 1];
            double enorm = 2.0 / (filterFreqs[m + 2] - filterFreqs[m]);
            for (int k = 0; k < bins; k++)
            {
                double down = -(filterFreqs[m] - fftFreqs[k]) / lowerWidth;
                double up = (filterFreqs[m + 2] - fftFreqs[k]) / upperWidth;
                // The reference hands the filters to a float32 matmul.
                filters[(m * bins) + k] = (float)(Math.Max(0.0, Math.Min(down, up)) * enorm);
            }
        }

        return filters;
    }

    internal static double HertzToMel(double hz) =>
        hz >= MinLogHertz ? MinLogMel + (Math.Log(hz / MinLogHertz) / LogStep) : 3.0 * hz / 200.0;

    internal static double MelToHertz(double mel) =>
        mel >= MinLogMel ? MinLogHertz * Math.Exp(LogStep * (mel - MinLogMel)) : 200.0 * mel / 3.0;

    /// <summary>transformers.js's linspace: start + step·i for every i (the last point is not snapped to end).</summary>
    private static double[] Linspace(double start, double end, int count)
    {
        double step = (end - start) / (count - 1);
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = start + (step * i);
        }

        return values;
    }
}
