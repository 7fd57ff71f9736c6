using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Device;

/// <summary>
/// Raw memory of the device a decoder runs on, for the device-resident KV cache (<see cref="Execution.DeviceKvStorage"/>):
/// allocate, copy within the device, copy to and from the host, zero. Copies may run asynchronously to the host;
/// <see cref="Synchronize"/> must be called before ONNX Runtime reads what they wrote.
/// Implementations: <see cref="CudaMemory"/> (a GPU, through the CUDA runtime) and <see cref="HostMemory"/> (native CPU
/// memory: the same code path on the CPU execution provider, which is how it is tested without a GPU).
/// </summary>
internal interface IDeviceMemory : IDisposable
{
    /// <summary>The memory info OrtValues over this memory are created with.</summary>
    OrtMemoryInfo MemoryInfo { get; }

    /// <summary>"cuda:0" or "cpu".</summary>
    string Name { get; }

    DeviceBuffer Allocate(long bytes);

    /// <summary>
    /// Copies <paramref name="rows"/> rows of <paramref name="widthBytes"/> bytes, each source row starting
    /// <paramref name="srcPitch"/> bytes after the previous, each destination row <paramref name="dstPitch"/> bytes after.
    /// </summary>
    void Copy2D(IntPtr dst, long dstPitch, IntPtr src, long srcPitch, long widthBytes, long rows);

    void Upload(ReadOnlySpan<float> source, IntPtr dst);

    /// <summary>Copies device floats to the host; returns when they are there.</summary>
    void Download(IntPtr src, Span<float> destination);

    void Zero(IntPtr dst, long bytes);

    /// <summary>Waits until every copy and zeroing issued so far is complete.</summary>
    void Synchronize();
}

/// <summary>One allocation on an <see cref="IDeviceMemory"/>; disposing frees it.</summary>
internal sealed class DeviceBuffer(IntPtr pointer, long bytes, Action<IntPtr> free) : IDisposable
{
    private Action<IntPtr>? _free = free;

    public IntPtr Pointer { get; } = pointer;

    public long Bytes { get; } = bytes;

    /// <summary>The address <paramref name="floats"/> floats in.</summary>
    public IntPtr At(long floats) => Pointer + checked((nint)(floats * sizeof(float)));

    public void Dispose()
    {
        Interlocked.Exchange(ref _free, null)?.Invoke(Pointer);
    }
}
