using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MmServe.Media.Tests.Audio;

/// <summary>
/// Reads a golden log-mel .npy as float32 in C order. The recipe saves <c>log(...).T.astype(float32)[None]</c>,
/// which numpy writes Fortran-ordered (the transpose is kept); the shared <see cref="Npy"/> reader refuses
/// that, so the Fortran case is handled here.
/// </summary>
internal static class GoldenLogMel
{
    public static (long[] Shape, float[] Values) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        if (!header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            var array = Npy.Read(bytes);
            return (array.Shape, array.AsFloat32());
        }

        Assert.Equal(1, bytes[6]);
        Assert.Contains("'descr': '<f4'", header, StringComparison.Ordinal);
        string shapeText = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        long[] shape = [.. shapeText[..shapeText.IndexOf(')', StringComparison.Ordinal)]
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse)];
        var fortran = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(10 + headerLength));
        return (shape, ToCOrder(fortran, shape));
    }

    /// <summary>Fortran order: the first index varies fastest.</summary>
    private static float[] ToCOrder(ReadOnlySpan<float> fortran, long[] shape)
    {
        int total = (int)shape.Aggregate(1L, (a, b) => a * b);
        Assert.Equal(total, fortran.Length);
        var result = new float[total];
        var index = new long[shape.Length];
        for (int c = 0; c < total; c++)
        {
            long offset = 0;
            for (int axis = shape.Length - 1; axis >= 0; axis--)
            {
                offset = (offset * shape[axis]) + index[axis];
            }

            result[c] = fortran[(int)offset];

            // Advance the C-order index: the last axis varies fastest.
            for (int axis = shape.Length - 1; axis >= 0 && ++index[axis] == shape[axis]; axis--)
            {
                index[axis] = 0;
            }
        }

        return result;
    }
}
