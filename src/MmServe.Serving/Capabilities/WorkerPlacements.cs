namespace MmServe.Serving.Capabilities;

/// <summary>
/// Where each engine worker of one model really runs, reported by <see cref="OnnxExecutorFactory"/> as it creates the
/// workers' executors (at start, before any description is read) and described by <see cref="ModelDescription"/>.
/// Empty when the executors do not come from ONNX Runtime (test fakes).
/// </summary>
public sealed class WorkerPlacements
{
    private readonly SortedDictionary<int, WorkerPlacement> _workers = [];
    private readonly Lock _lock = new();

    public void Report(WorkerPlacement placement)
    {
        lock (_lock)
        {
            _workers[placement.Worker] = placement;
        }
    }

    public IReadOnlyList<WorkerPlacement> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _workers.Values];
            }
        }
    }
}

/// <summary>One worker's placement.</summary>
/// <param name="Worker">Its index in the Workers list.</param>
/// <param name="Device">The device its Workers entry asks for ("cpu", "cuda:0").</param>
/// <param name="ExecutionProvider">The ONNX Runtime execution provider it got ("CUDAExecutionProvider", "CPUExecutionProvider").</param>
/// <param name="FallbackReason">Why a CUDA worker runs on CPU (allowed by AllowCpuFallback); null otherwise.</param>
/// <param name="KvCache">Where its KV cache lives: "host" or the device ("cuda:0").</param>
public sealed record WorkerPlacement(int Worker, string Device, string ExecutionProvider, string? FallbackReason, string KvCache);

/// <summary>The ONNX Runtime this server runs on.</summary>
/// <param name="Flavor">The build flavour (MSBuild OrtFlavor): "cpu" or "cuda".</param>
/// <param name="Version">The native library's version.</param>
public sealed record OnnxRuntimeBuild(string Flavor, string Version);
