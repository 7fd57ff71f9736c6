using MmServe.Media.Audio;

namespace MmServe.Media.Tests.Audio;

/// <summary>
/// The resampler is band-limited: tones in the pass band keep frequency, phase and amplitude, tones above
/// the new Nyquist vanish instead of aliasing, and upsampling creates no images. Naive decimation or
/// linear interpolation fails the alias, image and 6 kHz pass-band assertions.
/// </summary>
public sealed class ResamplerTests
{
    /// <summary>Output samples skipped at each end, well beyond the filter's reach.</summary>
    private const int Edge = 1000;

    [Fact]
    public void Equal_rates_are_an_exact_copy()
    {
        float[] input = [0.1f, -0.2f, float.Epsilon, 1f];

        var output = Resampler.Resample(input, 22050, 22050);

        Assert.Equal(input, output);
        Assert.NotSame(input, output);
        Assert.Equal(0, new Resampler(16000, 16000).FilterTaps);
    }

    [Theory]
    [InlineData(44100, 16000)]
    [InlineData(48000, 16000)]
    [InlineData(8000, 16000)]
    [InlineData(22050, 16000)] // L = 320: interpolated phases
    [InlineData(44101, 16000)] // L = 16000, M = 44101: interpolated phases
    [InlineData(192000, 16000)]
    public void One_kilohertz_sine_keeps_frequency_phase_and_amplitude(int sourceRate, int targetRate)
    {
        var input = Tone(1000, sourceRate, seconds: 1.0, amplitude: 0.5);

        var output = Resampler.Resample(input, sourceRate, targetRate);

        Assert.Equal((int)Math.Ceiling((double)input.Length * targetRate / sourceRate), output.Length);
        var ideal = Tone(1000, targetRate, seconds: 1.0, amplitude: 0.5);
        double worst = 0;
        for (int n = Edge; n < output.Length - Edge; n++)
        {
            worst = Math.Max(worst, Math.Abs(output[n] - ideal[n]));
        }

        // Linear interpolation from 44.1 kHz is off by ~1e-3 here already.
        Assert.True(worst < 2e-4, $"max |error| vs the ideal sine {worst}");
        var middle = output.AsSpan(Edge, 8000);
        Assert.InRange(Amplitude(middle), 0.495, 0.505);
        Assert.InRange(ZeroCrossingFrequency(middle, targetRate), 999, 1001);
    }

    [Fact]
    public void Pass_band_tone_at_6_kilohertz_keeps_its_amplitude()
    {
        var output = Resampler.Resample(Tone(6000, 44100, seconds: 1.0, amplitude: 0.5), 44100, 16000);

        // Linear interpolation loses ~5 % at 6 kHz from 44.1 kHz (its sinc² response).
        Assert.InRange(Amplitude(output.AsSpan(Edge, 8000)), 0.4975, 0.5025);
    }

    [Theory]
    [InlineData(7900, 30)] // inside the transition band, just below the new Nyquist (measured ~39 dB)
    [InlineData(8100, 75)] // would alias to 7.9 kHz (measured ~81 dB)
    [InlineData(12000, 90)] // would alias to 4 kHz (measured > 100 dB)
    [InlineData(20000, 90)] // would alias to 4 kHz
    public void Tones_at_or_above_the_new_nyquist_are_attenuated(int frequency, double minimumDb)
    {
        const double amplitude = 0.5;
        var output = Resampler.Resample(Tone(frequency, 44100, seconds: 1.0, amplitude), 44100, 16000);

        double attenuationDb = -20 * Math.Log10(Amplitude(output.AsSpan(Edge, 8000)) / amplitude);

        Assert.True(attenuationDb > minimumDb, $"{frequency} Hz attenuated by only {attenuationDb:F1} dB");
    }

    [Fact]
    public void Upsampling_creates_no_image_above_the_old_nyquist()
    {
        // 3.5 kHz at 8 kHz: a linear interpolator leaves an image at 8 - 3.5 = 4.5 kHz.
        const double amplitude = 0.5;
        var output = Resampler.Resample(Tone(3500, 8000, seconds: 1.0, amplitude), 8000, 16000);
        var middle = output.AsSpan(Edge, 8000);

        double image = ToneAmplitude(middle, 4500, 16000);
        Assert.True(image < amplitude * 1e-3, $"image at 4.5 kHz has amplitude {image}");
        Assert.InRange(ToneAmplitude(middle, 3500, 16000), amplitude * 0.99, amplitude * 1.01);
    }

    [Theory]
    [InlineData(44100, 16000)]
    [InlineData(11025, 16000)]
    public void Constant_signal_stays_constant_away_from_the_edges(int sourceRate, int targetRate)
    {
        var output = Resampler.Resample(Enumerable.Repeat(0.25f, sourceRate).ToArray(), sourceRate, targetRate);

        foreach (float value in output.AsSpan(Edge, output.Length - (2 * Edge)))
        {
            Assert.Equal(0.25, value, 1e-5);
        }
    }

    [Fact]
    public void Empty_input_gives_empty_output()
    {
        Assert.Empty(Resampler.Resample([], 44100, 16000));
    }

    [Fact]
    public void Invalid_rates_throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Resampler(0, 16000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Resampler(16000, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Resampler(192000, 1000));
    }

    internal static float[] Tone(double frequency, int rate, double seconds, double amplitude) =>
        [.. Enumerable.Range(0, (int)(seconds * rate)).Select(n => (float)(amplitude * Math.Sin(2 * Math.PI * frequency * n / rate)))];

    /// <summary>√2 · RMS: the amplitude of a pure tone (the window holds whole periods or many of them).</summary>
    private static double Amplitude(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x)
        {
            sum += (double)v * v;
        }

        return Math.Sqrt(2 * sum / x.Length);
    }

    /// <summary>Amplitude of one frequency by a Hann-windowed projection (leakage from distant tones is negligible).</summary>
    private static double ToneAmplitude(ReadOnlySpan<float> x, double frequency, int rate)
    {
        double re = 0, im = 0, windowSum = 0;
        for (int n = 0; n < x.Length; n++)
        {
            double w = 0.5 - (0.5 * Math.Cos(2 * Math.PI * n / x.Length));
            double angle = 2 * Math.PI * frequency * n / rate;
            re += x[n] * w * Math.Cos(angle);
            im += x[n] * w * Math.Sin(angle);
            windowSum += w;
        }

        return 2 * Math.Sqrt((re * re) + (im * im)) / windowSum;
    }

    /// <summary>Frequency from the first and last rising zero crossings, each located by linear interpolation.</summary>
    private static double ZeroCrossingFrequency(ReadOnlySpan<float> x, int rate)
    {
        double first = -1, last = -1;
        int cycles = -1;
        for (int n = 1; n < x.Length; n++)
        {
            if (x[n - 1] < 0 && x[n] >= 0)
            {
                double crossing = n - 1 + (x[n - 1] / (x[n - 1] - x[n]));
                first = first < 0 ? crossing : first;
                last = crossing;
                cycles++;
            }
        }

        return cycles * rate / (last - first);
    }
}
