namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// The KV cache of one sequence held outside the running batch (after its prefill, or while it is not
/// scheduled): per layer and key/value, [kv_heads, length, head_dim] floats.
/// </summary>
internal sealed class DetachedKv : IDetachedKv
{
    public DetachedKv(int tensors, int length, int kvHeads, int headDim)
    {
        Length = length;
        Tensors = new float[tensors][];
        for (int i = 0; i < tensors; i++)
        {
            Tensors[i] = new float[kvHeads * length * headDim];
        }
    }

    public int Length { get; }

    /// <summary>Index 2*layer is the key, 2*layer+1 the value.</summary>
    public float[][] Tensors { get; }

    public void Dispose()
    {
    }
}

/// <summary>Copies of KV rows between batch tensors [B, kv_heads, T, head_dim] and detached rows.</summary>
internal static class KvCopy
{
    /// <summary>Copies the last <paramref name="length"/> slots of batch row <paramref name="row"/> (rows are right-aligned).</summary>
    public static void RowToDetached(ReadOnlySpan<float> batch, int row, int totalSlots, int length, int kvHeads, int headDim, Span<float> dest)
    {
        int start = totalSlots - length;
        for (int h = 0; h < kvHeads; h++)
        {
            var src = batch.Slice((((row * kvHeads) + h) * totalSlots + start) * headDim, length * headDim);
            src.CopyTo(dest.Slice(h * length * headDim, length * headDim));
        }
    }

    /// <summary>Writes a row's <paramref name="length"/> slots right-aligned into a batch tensor with <paramref name="totalSlots"/> slots.</summary>
    public static void RowToBatch(ReadOnlySpan<float> src, int srcTotalSlots, int srcRow, int length, int kvHeads, int headDim, Span<float> batch, int row, int totalSlots)
    {
        int srcStart = srcTotalSlots - length;
        int dstStart = totalSlots - length;
        for (int h = 0; h < kvHeads; h++)
        {
            var from = src.Slice((((srcRow * kvHeads) + h) * srcTotalSlots + srcStart) * headDim, length * headDim);
            from.CopyTo(batch.Slice((((row * kvHeads) + h) * totalSlots + dstStart) * headDim, length * headDim));
        }
    }
}
