namespace MmServe.Media.Audio;

/// <summary>
/// The ideal low-pass impulse response <c>2·fc·sinc(2·fc·t)</c> times a Kaiser window of half-width
/// <c>W</c>; <c>t</c> and <c>W</c> are in input samples, <c>fc</c> in cycles per input sample.
/// </summary>
internal readonly struct KaiserSincKernel
{
    private readonly double _cutoff;
    private readonly double _halfWidth;
    private readonly double _beta;
    private readonly double _windowScale;

    public KaiserSincKernel(double cutoff, double halfWidth, double beta)
    {
        _cutoff = cutoff;
        _halfWidth = halfWidth;
        _beta = beta;
        _windowScale = 1.0 / BesselI0(beta);
    }

    public double Evaluate(double t)
    {
        double x = t / _halfWidth;
        if (Math.Abs(x) >= 1)
        {
            return 0;
        }

        double window = BesselI0(_beta * Math.Sqrt(1 - (x * x))) * _windowScale;
        double argument = Math.PI * 2 * _cutoff * t;
        double sinc = argument == 0 ? 1 : Math.Sin(argument) / argument;
        return 2 * _cutoff * sinc * window;
    }

    /// <summary>Modified Bessel function of the first kind, order 0, by its power series (converges for all x).</summary>
    internal static double BesselI0(double x)
    {
        double quarterSquare = x * x / 4;
        double term = 1;
        double sum = 1;
        for (int k = 1; k < 500 && term > sum * 1e-17; k++)
        {
            term *= quarterSquare / ((double)k * k);
            sum += term;
        }

        return sum;
    }
}
