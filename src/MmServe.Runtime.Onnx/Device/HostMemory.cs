using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Device;

/// <summary>
/// Native CPU memory behind the <see cref="IDeviceMemory"/> seam: runs the device-resident KV path (IOBinding,
/// unowned OrtValues over raw pointers, 2-D copies) on the CPU execution provider, so it is tested without a GPU.
/// </summary>
internal sealed unsafe class HostMemory : IDeviceMemory
{
    public OrtMemoryInfo MemoryInfo => OrtMemoryInfo.DefaultInstance;

    public string Name => "cpu";

    public DeviceBuffer Allocate(long bytes)
    {
        var pointer = (IntPtr)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);
        return new DeviceBuffer(pointer, bytes, static p => NativeMemory.AlignedFree((void*)p));
    }

    public void Copy2D(IntPtr dst, long dstPitch, IntPtr src, long srcPitch, long widthBytes, long rows)
    {
        for (long r = 0; r < rows; r++)
        {
            Buffer.MemoryCopy((void*)(src + (nint)(r * srcPitch)), (void*)(dst + (nint)(r * dstPitch)), widthBytes, widthBytes);
        }
    }

    public void Upload(ReadOnlySpan<float> source, IntPtr dst) => source.CopyTo(new Span<float>((void*)dst, source.Length));

    public void Download(IntPtr src, Span<float> destination) => new ReadOnlySpan<float>((void*)src, destination.Length).CopyTo(destination);

    public void Zero(IntPtr dst, long bytes) => NativeMemory.Clear((void*)dst, (nuint)bytes);

    public void Synchronize()
    {
    }

    public void Dispose()
    {
    }
}
