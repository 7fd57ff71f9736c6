using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Where <see cref="OnnxModelExecutor"/> keeps its KV cache: three buffer sets of 2 x layers tensors in the batch
/// layout [B, kv_heads, T, head_dim] (the two ping-pong sets of the running batch and the prefill set), plus the
/// detached rows of sequences outside the running batch. The executor decides what moves where; the storage only
/// holds and copies. <see cref="HostKvStorage"/> is managed float arrays (the CPU path); <see cref="DeviceKvStorage"/>
/// is memory of the decoder's device (CUDA), so the cache never crosses to the host.
/// </summary>
internal interface IKvStorage : IDisposable
{
    /// <summary>Ensures each tensor of <paramref name="set"/> holds at least <paramref name="elements"/> floats (contents are not kept on growth).</summary>
    void EnsureCapacity(KvSet set, int elements);

    /// <summary>
    /// An OrtValue of <paramref name="shape"/> over the first elements of tensor <paramref name="tensor"/> of
    /// <paramref name="set"/>, or over an empty buffer when <paramref name="set"/> is null (a first prompt has no past).
    /// </summary>
    OrtValue View(KvSet? set, int tensor, long[] shape);

    /// <summary>Copies the last <paramref name="length"/> slots of batch row <paramref name="row"/> of every tensor (rows are right-aligned) out of the batch.</summary>
    IDetachedKv Detach(KvSet set, int row, int totalSlots, int length);

    /// <summary>
    /// Clears the first <c>rows.Count x kv_heads x slots x head_dim</c> floats of every tensor of <paramref name="target"/>
    /// and writes each row's KV right-aligned into it, from a batch set or a detached row.
    /// </summary>
    void Pack(KvSet target, int slots, IReadOnlyList<KvRowSource> rows);
}

internal enum KvSet
{
    /// <summary>Ping-pong set 0 of the running batch.</summary>
    Batch0 = 0,

    /// <summary>Ping-pong set 1 of the running batch.</summary>
    Batch1 = 1,

    /// <summary>The present tensors of a prefill run.</summary>
    Prefill = 2,
}

/// <summary>The KV of one sequence outside the running batch: per tensor, [kv_heads, length, head_dim].</summary>
internal interface IDetachedKv : IDisposable
{
    int Length { get; }
}

/// <summary>Where a packed row's KV comes from: row <see cref="Row"/> of batch set <see cref="Set"/> (with <see cref="TotalSlots"/> slots), or <see cref="Detached"/>.</summary>
internal readonly record struct KvRowSource(int Length, IDetachedKv? Detached, KvSet Set = KvSet.Batch0, int Row = 0, int TotalSlots = 0);
