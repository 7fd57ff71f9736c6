using System.Buffers.Binary;
using System.Globalization;
using MmServe.Media;
using MmServe.Media.Tensors;
using MmServe.Model.Bundle;

namespace MmServe.Serving.Media;

/// <summary>
/// A raw-tensor modality's front end (PandaGPT / ImageBind: depth, IMU, thermal...): the client's .npy bytes are
/// checked against the manifest's "tensor" preprocessing — little-endian float32, C order, a shape within the declared
/// per-dimension ranges, exactly the bytes that shape needs, every value finite and within value_range — and passed on
/// unchanged as <see cref="TensorItem"/> (shape first, so the encoder knows it). Every refusal is a MediaError naming
/// the problem (a 400), never an exception.
/// </summary>
public sealed class TensorInputPreprocessor(string modality, TensorInputSpec spec) : IMediaPreprocessor
{
    public const string InvalidTensor = NpyArray.InvalidTensor;

    public string Modality => modality;

    /// <summary>The largest accepted array and its header.</summary>
    public long MaxEncodedBytes => 16 + NpyArray.MaxHeaderBytes + (spec.MaxElements * sizeof(float));

    /// <summary>0: items may differ in shape (each carries its own).</summary>
    public int OutputLength => 0;

    public string ConfigurationKey => $"tensor|{modality}|{spec.Describe()}|{spec.MinValue.ToString("R", CultureInfo.InvariantCulture)}|{spec.MaxValue.ToString("R", CultureInfo.InvariantCulture)}";

    public TensorInputSpec Spec => spec;

    public Task<MediaResult<float[]>> PreprocessAsync(ReadOnlyMemory<byte> encoded, string? declaredFormat, CancellationToken ct) =>
        Task.FromResult(Read(encoded.Span));

    public MediaResult<float[]> Read(ReadOnlySpan<byte> bytes)
    {
        var parsed = NpyArray.ReadHeader(bytes);
        if (!parsed.IsSuccess)
        {
            return parsed.Error;
        }

        var header = parsed.Value;
        if (header.Descr is not ("<f4" or "=f4" or "f4"))
        {
            return Fail($"The {modality} tensor has dtype '{header.Descr}'; this model takes {spec.Dtype} ('<f4', little-endian).");
        }

        if (header.FortranOrder)
        {
            return Fail($"The {modality} tensor is stored in Fortran (column-major) order; send it C-ordered (numpy.ascontiguousarray).");
        }

        var shape = header.Shape;
        string got = "[" + string.Join(", ", shape) + "]";
        bool fits = shape.Count == spec.Dimensions.Count;
        for (int i = 0; fits && i < shape.Count; i++)
        {
            fits = shape[i] >= spec.Dimensions[i].Min && shape[i] <= spec.Dimensions[i].Max;
        }

        if (!fits)
        {
            return Fail($"The {modality} tensor has shape {got}; this model takes {spec.Describe()}.");
        }

        long count = shape.Aggregate(1L, (n, d) => n * d);
        long data = bytes.Length - header.DataOffset;
        if (data != count * sizeof(float))
        {
            return Fail($"The {modality} tensor's data is {data} bytes; its shape {got} of float32 needs {count * sizeof(float)}.");
        }

        var item = new float[1 + shape.Count + count];
        item[0] = shape.Count;
        for (int i = 0; i < shape.Count; i++)
        {
            item[1 + i] = shape[i];
        }

        var values = bytes[header.DataOffset..];
        int at = 1 + shape.Count;
        for (int i = 0; i < count; i++)
        {
            float v = BinaryPrimitives.ReadSingleLittleEndian(values.Slice(i * sizeof(float), sizeof(float)));
            if (!float.IsFinite(v))
            {
                return Fail($"The {modality} tensor holds {(float.IsNaN(v) ? "NaN" : "an infinite value")} at flat index {i}; every value must be finite.");
            }

            if (v < spec.MinValue || v > spec.MaxValue)
            {
                return Fail(string.Create(CultureInfo.InvariantCulture,
                    $"The {modality} tensor holds {v} at flat index {i}, outside this model's range [{spec.MinValue}, {spec.MaxValue}]."));
            }

            item[at + i] = v;
        }

        return item;
    }

    private static MediaError Fail(string message) => new(InvalidTensor, message);
}

/// <summary>A preprocessed tensor: <c>[rank, size 0, ..., size rank-1, values...]</c> (sizes are small integers, exact in float).</summary>
public static class TensorItem
{
    public static long[] Shape(float[] item)
    {
        ArgumentNullException.ThrowIfNull(item);
        int rank = (int)item[0];
        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            shape[i] = (long)item[1 + i];
        }

        return shape;
    }

    public static ReadOnlyMemory<float> Values(float[] item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return item.AsMemory(1 + (int)item[0]);
    }
}
