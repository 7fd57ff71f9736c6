using System.Buffers.Binary;
using System.Text;

namespace MmServe.TestSupport;

/// <summary>Writes .npy bytes as numpy.save does (and, for bad-input tests, the ways it must not).</summary>
public static class NpyWriter
{
    /// <summary>A version 1.0 (or <paramref name="major"/>.0) file with the given header fields and raw data.</summary>
    public static byte[] Write(string descr, bool fortranOrder, long[] shape, byte[] data, byte major = 1)
    {
        var dims = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var dict = $"{{'descr': '{descr}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': {dims}, }}";
        int lengthBytes = major == 1 ? 2 : 4;
        int unpadded = 6 + 2 + lengthBytes + dict.Length + 1;
        dict += new string(' ', ((unpadded + 63) / 64 * 64) - unpadded) + "\n";
        var header = Encoding.ASCII.GetBytes(dict);
        var bytes = new byte[6 + 2 + lengthBytes + header.Length + data.Length];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(bytes, 1);
        bytes[6] = major;
        bytes[7] = 0;
        if (lengthBytes == 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)header.Length);
        }

        header.CopyTo(bytes, 8 + lengthBytes);
        data.CopyTo(bytes, 8 + lengthBytes + header.Length);
        return bytes;
    }

    /// <summary>Little-endian float32 values in C order.</summary>
    public static byte[] Float32(long[] shape, Func<int, float> value)
    {
        long count = shape.Aggregate(1L, (n, d) => n * d);
        var data = new byte[count * 4];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), value(i));
        }

        return Write("<f4", false, shape, data);
    }
}
