using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace MmServe.TestSupport;

/// <summary>Minimal reader for the .npy / .npz files the reference-model recipe writes (little-endian, C order).</summary>
public sealed record NpyArray(long[] Shape, string Dtype, byte[] Data)
{
    public float[] AsFloat32()
    {
        if (Dtype == "<f4")
        {
            return MemoryMarshalCast<float>();
        }

        if (Dtype == "<f8")
        {
            return Array.ConvertAll(MemoryMarshalCast<double>(), d => (float)d);
        }

        throw new InvalidOperationException($"dtype {Dtype} is not float");
    }

    public long[] AsInt64()
    {
        if (Dtype == "<i8")
        {
            return MemoryMarshalCast<long>();
        }

        if (Dtype == "|u1")
        {
            return Array.ConvertAll(Data, b => (long)b);
        }

        throw new InvalidOperationException($"dtype {Dtype} is not integer");
    }

    public byte[] AsBytes() => Dtype == "|u1" ? Data : throw new InvalidOperationException($"dtype {Dtype} is not uint8");

    private T[] MemoryMarshalCast<T>()
        where T : struct => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(Data).ToArray();
}

public static partial class Npy
{
    public static NpyArray Read(string path) => Read(File.ReadAllBytes(path));

    public static NpyArray Read(byte[] bytes)
    {
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException("not a .npy file");
        }

        int major = bytes[6];
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int headerStart = major == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        string dtype = DescrRegex().Match(header).Groups[1].Value;
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidDataException("fortran order is not supported");
        }

        string shapeText = ShapeRegex().Match(header).Groups[1].Value;
        long[] shape = [.. shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse)];
        int dataStart = headerStart + headerLength;
        return new NpyArray(shape, dtype, bytes[dataStart..]);
    }

    /// <summary>All arrays of an .npz archive by name (without the .npy suffix).</summary>
    public static Dictionary<string, NpyArray> ReadArchive(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var result = new Dictionary<string, NpyArray>();
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            result[Path.GetFileNameWithoutExtension(entry.Name)] = Read(memory.ToArray());
        }

        return result;
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
