using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Device;

/// <summary>
/// GPU memory of one CUDA device. Buffers come from the decoder session's CUDA allocator (ONNX Runtime's arena, so
/// <c>gpu_mem_limit</c> and <c>arena_extend_strategy</c> apply to the KV cache too); copies and zeroing go through the
/// CUDA runtime (libcudart.so.13, which the CUDA execution provider loads anyway) on the legacy default stream.
/// ONNX Runtime computes on its own non-blocking stream and synchronises it at the end of every Run, so
/// <see cref="Synchronize"/> (cudaDeviceSynchronize) before a Run is the only ordering needed.
/// Not thread-safe: the worker thread that owns the executor calls it.
/// </summary>
internal sealed partial class CudaMemory : IDeviceMemory
{
    private const string CudaRuntime = "libcudart.so.13";
    private const int HostToDevice = 1;
    private const int DeviceToHost = 2;
    private const int DeviceToDevice = 3;

    private readonly int _deviceId;
    private readonly OrtAllocator _allocator;
    private bool _pending;

    /// <param name="deviceId">The N of "cuda:N".</param>
    /// <param name="session">A session on the CUDA execution provider of that device; its allocator is used.</param>
    public CudaMemory(int deviceId, InferenceSession session)
    {
        _deviceId = deviceId;
        MemoryInfo = new OrtMemoryInfo("Cuda", OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.Default);
        _allocator = new OrtAllocator(session, MemoryInfo);
        Name = $"cuda:{deviceId}";
    }

    public OrtMemoryInfo MemoryInfo { get; }

    public string Name { get; }

    public DeviceBuffer Allocate(long bytes)
    {
        if (bytes > uint.MaxValue)
        {
            throw new InvalidOperationException($"a KV buffer of {bytes} bytes exceeds ONNX Runtime's 4 GiB allocation limit; lower Engine:MaxBatchSize or the context");
        }

        var allocation = _allocator.Allocate((uint)Math.Max(bytes, 1));
        // The SafeHandle's handle is the device pointer (OrtMemoryAllocation.Pointer is internal).
        return new DeviceBuffer(allocation.DangerousGetHandle(), bytes, _ => allocation.Dispose());
    }

    public void Copy2D(IntPtr dst, long dstPitch, IntPtr src, long srcPitch, long widthBytes, long rows)
    {
        if (widthBytes == 0 || rows == 0)
        {
            return;
        }

        Use();
        Check(cudaMemcpy2D(dst, (nuint)dstPitch, src, (nuint)srcPitch, (nuint)widthBytes, (nuint)rows, DeviceToDevice), "cudaMemcpy2D");
    }

    public unsafe void Upload(ReadOnlySpan<float> source, IntPtr dst)
    {
        if (source.IsEmpty)
        {
            return;
        }

        Use();
        fixed (float* p = source)
        {
            Check(cudaMemcpy(dst, (IntPtr)p, (nuint)(source.Length * sizeof(float)), HostToDevice), "cudaMemcpy (to device)");
        }
    }

    public unsafe void Download(IntPtr src, Span<float> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }

        Use();
        fixed (float* p = destination)
        {
            // To pageable host memory cudaMemcpy returns when the data is there.
            Check(cudaMemcpy((IntPtr)p, src, (nuint)(destination.Length * sizeof(float)), DeviceToHost), "cudaMemcpy (to host)");
        }
    }

    public void Zero(IntPtr dst, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        Use();
        Check(cudaMemset(dst, 0, (nuint)bytes), "cudaMemset");
    }

    public void Synchronize()
    {
        if (_pending)
        {
            Check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
            _pending = false;
        }
    }

    public void Dispose()
    {
        _allocator.Dispose();
        MemoryInfo.Dispose();
    }

    private void Use()
    {
        Check(cudaSetDevice(_deviceId), "cudaSetDevice");
        _pending = true;
    }

    private static void Check(int status, string call)
    {
        if (status != 0)
        {
            var message = Marshal.PtrToStringAnsi(cudaGetErrorString(status)) ?? "unknown error";
            throw new InvalidOperationException($"{call} failed: CUDA error {status} ({message})");
        }
    }

    [LibraryImport(CudaRuntime)]
    private static partial int cudaSetDevice(int device);

    [LibraryImport(CudaRuntime)]
    private static partial int cudaMemcpy(IntPtr dst, IntPtr src, nuint count, int kind);

    [LibraryImport(CudaRuntime)]
    private static partial int cudaMemcpy2D(IntPtr dst, nuint dpitch, IntPtr src, nuint spitch, nuint width, nuint height, int kind);

    [LibraryImport(CudaRuntime)]
    private static partial int cudaMemset(IntPtr devPtr, int value, nuint count);

    [LibraryImport(CudaRuntime)]
    private static partial int cudaDeviceSynchronize();

    [LibraryImport(CudaRuntime)]
    private static partial IntPtr cudaGetErrorString(int error);
}
