using System.Numerics;

namespace MmServe.Media.Audio;

/// <summary>SIMD dot products (<see cref="Vector{T}"/> width) for the resampler and the DFT.</summary>
internal static class AudioSpanMath
{
    /// <summary>Sum of <c>a[i] * b[i]</c> over the common length (<paramref name="b"/> sets it).</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int length = b.Length;
        a = a[..length];
        int i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && length >= Vector<float>.Count)
        {
            var accumulator = Vector<float>.Zero;
            for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
            {
                accumulator += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
            }

            sum = Vector.Sum(accumulator);
        }

        for (; i < length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>
    /// <c>(Σ x[i]·c[i], Σ x[i]·s[i])</c> in one pass over <paramref name="x"/>: the real and imaginary
    /// parts of one DFT bin from its cosine and sine rows.
    /// </summary>
    public static (double Real, double Imaginary) DotPair(ReadOnlySpan<double> x, ReadOnlySpan<double> c, ReadOnlySpan<double> s)
    {
        int length = x.Length;
        c = c[..length];
        s = s[..length];
        int i = 0;
        double real = 0;
        double imaginary = 0;
        if (Vector.IsHardwareAccelerated && length >= Vector<double>.Count)
        {
            var realSum = Vector<double>.Zero;
            var imaginarySum = Vector<double>.Zero;
            for (; i <= length - Vector<double>.Count; i += Vector<double>.Count)
            {
                var value = new Vector<double>(x[i..]);
                realSum += value * new Vector<double>(c[i..]);
                imaginarySum += value * new Vector<double>(s[i..]);
            }

            real = Vector.Sum(realSum);
            imaginary = Vector.Sum(imaginarySum);
        }

        for (; i < length; i++)
        {
            real += x[i] * c[i];
            imaginary += x[i] * s[i];
        }

        return (real, imaginary);
    }
}
