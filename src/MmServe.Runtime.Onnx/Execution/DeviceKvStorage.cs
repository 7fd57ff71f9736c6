using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MmServe.Runtime.Onnx.Device;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// The KV cache in the decoder device's memory (<see cref="IDeviceMemory"/>): bound to the decoder through IOBinding as
/// unowned OrtValues, detached rows and repacks copied within the device (one 2-D copy per tensor and row), so no KV
/// byte crosses to the host. Buffers are grow-only like the host path's; detached rows are freed when released.
/// </summary>
internal sealed class DeviceKvStorage : IKvStorage
{
    private readonly IDeviceMemory _memory;
    private readonly int _tensors;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly DeviceBuffer?[][] _sets;
    private readonly long[] _capacity = new long[3];
    private readonly DeviceBuffer _empty;

    public DeviceKvStorage(IDeviceMemory memory, int tensors, int kvHeads, int headDim)
    {
        _memory = memory;
        _tensors = tensors;
        _kvHeads = kvHeads;
        _headDim = headDim;
        _sets = [new DeviceBuffer?[tensors], new DeviceBuffer?[tensors], new DeviceBuffer?[tensors]];
        _empty = memory.Allocate(sizeof(float));
    }

    public void EnsureCapacity(KvSet set, int elements)
    {
        int s = (int)set;
        if (_capacity[s] >= elements)
        {
            return;
        }

        long grown = Math.Max(elements, _capacity[s] * 3 / 2);
        for (int t = 0; t < _tensors; t++)
        {
            _sets[s][t]?.Dispose();
            _sets[s][t] = null;
        }

        _capacity[s] = 0;
        for (int t = 0; t < _tensors; t++)
        {
            _sets[s][t] = _memory.Allocate(grown * sizeof(float));
        }

        _capacity[s] = grown;
    }

    public OrtValue View(KvSet? set, int tensor, long[] shape)
    {
        long elements = shape[0] * shape[1] * shape[2] * shape[3];
        var pointer = set is { } s ? Tensor(s, tensor).Pointer : _empty.Pointer;
        return OrtValue.CreateTensorValueWithData(_memory.MemoryInfo, TensorElementType.Float, shape, pointer, elements * sizeof(float));
    }

    public IDetachedKv Detach(KvSet set, int row, int totalSlots, int length)
    {
        var kv = new DeviceDetachedKv(length);
        try
        {
            long rowBytes = (long)length * _headDim * sizeof(float);
            long pitch = (long)totalSlots * _headDim * sizeof(float);
            for (int t = 0; t < _tensors; t++)
            {
                var buffer = _memory.Allocate(Math.Max(_kvHeads * rowBytes, sizeof(float)));
                kv.Tensors.Add(buffer);
                var source = Tensor(set, t).At((((long)row * _kvHeads * totalSlots) + totalSlots - length) * _headDim);
                _memory.Copy2D(buffer.Pointer, rowBytes, source, pitch, rowBytes, _kvHeads);
            }

            return kv;
        }
        catch
        {
            kv.Dispose();
            throw;
        }
    }

    public void Pack(KvSet target, int slots, IReadOnlyList<KvRowSource> rows)
    {
        int b = rows.Count;
        long dstPitch = (long)slots * _headDim * sizeof(float);
        EnsureCapacity(target, b * _kvHeads * slots * _headDim);
        for (int t = 0; t < _tensors; t++)
        {
            var dst = Tensor(target, t);
            _memory.Zero(dst.Pointer, b * _kvHeads * dstPitch);
            for (int row = 0; row < b; row++)
            {
                var source = rows[row];
                long width = (long)source.Length * _headDim * sizeof(float);
                var to = dst.At((((long)row * _kvHeads * slots) + slots - source.Length) * _headDim);
                if (source.Detached is DeviceDetachedKv detached)
                {
                    _memory.Copy2D(to, dstPitch, detached.Tensors[t].Pointer, width, width, _kvHeads);
                }
                else
                {
                    long srcPitch = (long)source.TotalSlots * _headDim * sizeof(float);
                    var from = Tensor(source.Set, t).At((((long)source.Row * _kvHeads * source.TotalSlots) + source.TotalSlots - source.Length) * _headDim);
                    _memory.Copy2D(to, dstPitch, from, srcPitch, width, _kvHeads);
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var set in _sets)
        {
            foreach (var buffer in set)
            {
                buffer?.Dispose();
            }
        }

        _empty.Dispose();
    }

    private DeviceBuffer Tensor(KvSet set, int tensor) =>
        _sets[(int)set][tensor] ?? throw new InvalidOperationException($"KV set {set} was never sized");

    private sealed class DeviceDetachedKv(int length) : IDetachedKv
    {
        public int Length { get; } = length;

        public List<DeviceBuffer> Tensors { get; } = [];

        public void Dispose()
        {
            foreach (var buffer in Tensors)
            {
                buffer.Dispose();
            }

            Tensors.Clear();
        }
    }
}
