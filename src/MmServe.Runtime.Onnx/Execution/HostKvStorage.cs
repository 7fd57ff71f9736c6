using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>The KV cache in managed float arrays, pinned into OrtValues per run (the CPU path).</summary>
internal sealed class HostKvStorage : IKvStorage
{
    private static readonly float[] NoPast = new float[1];
    private readonly KvBufferSet[] _sets;
    private readonly int _kvHeads;
    private readonly int _headDim;

    public HostKvStorage(int tensors, int kvHeads, int headDim)
    {
        _sets = [new KvBufferSet(tensors), new KvBufferSet(tensors), new KvBufferSet(tensors)];
        _kvHeads = kvHeads;
        _headDim = headDim;
    }

    public void EnsureCapacity(KvSet set, int elements) => _sets[(int)set].EnsureCapacity(elements);

    public OrtValue View(KvSet? set, int tensor, long[] shape)
    {
        // A first prompt has no past: a zero-length view of a real array (ORT wants a valid pointer).
        var memory = set is { } s ? _sets[(int)s][tensor].AsMemory(0, Elements(shape)) : NoPast.AsMemory(0, 0);
        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory, shape);
    }

    public IDetachedKv Detach(KvSet set, int row, int totalSlots, int length)
    {
        var source = _sets[(int)set];
        var kv = new DetachedKv(source.Count, length, _kvHeads, _headDim);
        for (int t = 0; t < source.Count; t++)
        {
            KvCopy.RowToDetached(source[t], row, totalSlots, length, _kvHeads, _headDim, kv.Tensors[t]);
        }

        return kv;
    }

    public void Pack(KvSet target, int slots, IReadOnlyList<KvRowSource> rows)
    {
        var dstSet = _sets[(int)target];
        int b = rows.Count;
        dstSet.EnsureCapacity(b * _kvHeads * slots * _headDim);
        for (int t = 0; t < dstSet.Count; t++)
        {
            var dst = dstSet[t].AsSpan(0, b * _kvHeads * slots * _headDim);
            dst.Clear();
            for (int row = 0; row < b; row++)
            {
                var source = rows[row];
                if (source.Detached is DetachedKv detached)
                {
                    KvCopy.RowToBatch(detached.Tensors[t], source.Length, 0, source.Length, _kvHeads, _headDim, dst, row, slots);
                }
                else
                {
                    KvCopy.RowToBatch(_sets[(int)source.Set][t], source.TotalSlots, source.Row, source.Length, _kvHeads, _headDim, dst, row, slots);
                }
            }
        }
    }

    public void Dispose()
    {
    }

    private static int Elements(long[] shape) => checked((int)(shape[0] * shape[1] * shape[2] * shape[3]));
}
