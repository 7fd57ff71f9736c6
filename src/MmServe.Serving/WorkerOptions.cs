namespace MmServe.Serving;

/// <summary>One engine worker (one entry of the "Workers" list): where its model sessions run.</summary>
public sealed class WorkerOptions
{
    /// <summary>
    /// "cpu", "cuda" or "cuda:N". CUDA that cannot be used (the CPU build flavour, CUDA 13 / cuDNN 9 not loadable, no
    /// GPU) stops the server at start naming this key, unless <see cref="AllowCpuFallback"/> is set.
    /// </summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Run a CUDA worker on CPU, with a warning and the reason in /v1/models, when CUDA cannot be used.</summary>
    public bool AllowCpuFallback { get; set; }

    /// <summary>ONNX Runtime threads per operator; 0 lets ONNX Runtime use all cores.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Let ONNX Runtime's operator threads spin while waiting for work (ORT's default).</summary>
    public bool AllowSpinning { get; set; } = true;

    /// <summary>CUDA only: the most MiB each of this worker's sessions may hold in its CUDA arena (ORT's gpu_mem_limit); 0 = no limit.</summary>
    public int GpuMemLimitMb { get; set; }

    /// <summary>
    /// CUDA only: how the CUDA arena grows (ORT's arena_extend_strategy): "SameAsRequested" (default here: the KV
    /// cache's large grow-only buffers are not rounded up to a power of two) or "NextPowerOfTwo" (ORT's default).
    /// </summary>
    public string ArenaExtendStrategy { get; set; } = "SameAsRequested";

    /// <summary>CUDA only: how cuDNN picks convolution algorithms (ORT's cudnn_conv_algo_search): "Exhaustive" (ORT's default), "Heuristic" or "Default".</summary>
    public string CudnnConvAlgoSearch { get; set; } = "Exhaustive";

    /// <summary>Accepted <see cref="ArenaExtendStrategy"/> values and ORT's names for them.</summary>
    public static readonly IReadOnlyDictionary<string, string> ArenaExtendStrategies =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["SameAsRequested"] = "kSameAsRequested", ["NextPowerOfTwo"] = "kNextPowerOfTwo" };

    /// <summary>Accepted <see cref="CudnnConvAlgoSearch"/> values and ORT's names for them.</summary>
    public static readonly IReadOnlyDictionary<string, string> CudnnConvAlgoSearches =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Exhaustive"] = "EXHAUSTIVE", ["Heuristic"] = "HEURISTIC", ["Default"] = "DEFAULT" };
}

/// <summary>The "Workers" list; one engine worker per entry, a single CPU worker when the list is absent.</summary>
public sealed class WorkerPoolOptions
{
    public const string SectionName = "Workers";

    public IReadOnlyList<WorkerOptions> Workers { get; set; } = [new WorkerOptions()];

    /// <summary>Where the list comes from ("Workers", or "Models:0:Workers"), so errors name entry N as "{SettingPath}:N".</summary>
    public string SettingPath { get; set; } = SectionName;
}
