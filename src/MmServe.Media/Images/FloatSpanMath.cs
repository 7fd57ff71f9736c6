using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MmServe.Media.Images;

/// <summary>SIMD helpers for the resize and normalization inner loops (<see cref="Vector{T}"/> width).</summary>
internal static class FloatSpanMath
{
    /// <summary>Sum of <c>values[i] * weights[i]</c>; <paramref name="weights"/> sets the length.</summary>
    public static float Dot(ReadOnlySpan<float> values, ReadOnlySpan<float> weights)
    {
        int length = weights.Length;
        values = values[..length];
        int i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && length >= Vector<float>.Count)
        {
            var accumulator = Vector<float>.Zero;
            for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
            {
                accumulator += new Vector<float>(values[i..]) * new Vector<float>(weights[i..]);
            }

            sum = Vector.Sum(accumulator);
        }

        for (; i < length; i++)
        {
            sum += values[i] * weights[i];
        }

        return sum;
    }

    /// <summary><c>destination[i] = source[i] * weight</c>.</summary>
    public static void Scale(ReadOnlySpan<float> source, float weight, Span<float> destination)
    {
        int length = destination.Length;
        source = source[..length];
        var vectorWeight = new Vector<float>(weight);
        int i = 0;
        for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
        {
            (new Vector<float>(source[i..]) * vectorWeight).CopyTo(destination[i..]);
        }

        for (; i < length; i++)
        {
            destination[i] = source[i] * weight;
        }
    }

    /// <summary><c>destination[i] += source[i] * weight</c>, the same operation order as torch's vertical pass.</summary>
    public static void MultiplyAdd(ReadOnlySpan<float> source, float weight, Span<float> destination)
    {
        int length = destination.Length;
        source = source[..length];
        var vectorWeight = new Vector<float>(weight);
        int i = 0;
        for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var slot = destination[i..];
            (new Vector<float>(slot) + (new Vector<float>(source[i..]) * vectorWeight)).CopyTo(slot);
        }

        for (; i < length; i++)
        {
            destination[i] += source[i] * weight;
        }
    }

    /// <summary>
    /// <c>values[i] = (values[i] * rescale - mean) / std</c> in float32, in exactly that order
    /// (no fused multiply-add), so the result is bit-identical to the scalar formula.
    /// </summary>
    public static void Normalize(Span<float> values, float rescale, float mean, float std)
    {
        var vectorRescale = new Vector<float>(rescale);
        var vectorMean = new Vector<float>(mean);
        var vectorStd = new Vector<float>(std);
        int i = 0;
        for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var slot = values[i..];
            (((new Vector<float>(slot) * vectorRescale) - vectorMean) / vectorStd).CopyTo(slot);
        }

        for (; i < values.Length; i++)
        {
            values[i] = ((values[i] * rescale) - mean) / std;
        }
    }

    /// <summary>Splits an interleaved RGB24 row into three float planes holding 0..255.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DeinterleaveRgb(ReadOnlySpan<byte> rgb, Span<float> red, Span<float> green, Span<float> blue)
    {
        int width = red.Length;
        if (rgb.Length < width * 3 || green.Length < width || blue.Length < width)
        {
            throw new ArgumentException("Plane lengths do not match the RGB row.");
        }

        ref byte source = ref MemoryMarshal.GetReference(rgb);
        for (int x = 0; x < width; x++)
        {
            red[x] = Unsafe.Add(ref source, 3 * x);
            green[x] = Unsafe.Add(ref source, (3 * x) + 1);
            blue[x] = Unsafe.Add(ref source, (3 * x) + 2);
        }
    }

    /// <summary>Three planes laid end to end ([3, N]) to interleaved triples ([N, 3]), e.g. NCHW to NHWC.</summary>
    public static void InterleavePlanes(ReadOnlySpan<float> planes, Span<float> interleaved)
    {
        int plane = planes.Length / 3;
        if (planes.Length != plane * 3 || interleaved.Length != planes.Length)
        {
            throw new ArgumentException("Interleaving needs three equal planes and a destination of the same length.");
        }

        var first = planes[..plane];
        var second = planes.Slice(plane, plane);
        var third = planes.Slice(2 * plane, plane);
        for (int i = 0; i < plane; i++)
        {
            interleaved[3 * i] = first[i];
            interleaved[(3 * i) + 1] = second[i];
            interleaved[(3 * i) + 2] = third[i];
        }
    }
}
