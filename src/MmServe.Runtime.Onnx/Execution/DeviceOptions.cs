namespace MmServe.Runtime.Onnx.Execution;

/// <summary>How one worker's ONNX Runtime sessions are created.</summary>
/// <param name="Device">"cpu" or "cuda:N".</param>
/// <param name="IntraOpThreads">Threads per operator (0 = ORT default: all cores).</param>
/// <param name="AllowSpinning">
/// Whether ORT's intra-op threads spin between parallel sections (ORT's default, true). Spinning saves wake-up
/// latency, but the spinning threads take cores the server's other work (HTTP, encoders) needs.
/// </param>
public sealed record DeviceOptions(string Device = "cpu", int IntraOpThreads = 0, bool AllowSpinning = true)
{
    /// <summary>
    /// When CUDA is asked for but cannot be used, run on CPU with a warning instead of failing
    /// (<see cref="ExecutionProviderUnavailableException"/>).
    /// </summary>
    public bool AllowCpuFallback { get; init; }

    /// <summary>The configuration entry these options come from ("Workers:0"), named in errors.</summary>
    public string SettingKey { get; init; } = "Workers:0";

    /// <summary>CUDA execution provider settings; ignored on CPU.</summary>
    public CudaSettings Cuda { get; init; } = new();

    public bool IsCuda => Device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase);

    /// <summary>The N of "cuda:N"; 0 for a bare "cuda".</summary>
    public int CudaDeviceId
    {
        get
        {
            int colon = Device.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? 0 : int.Parse(Device.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>The CUDA execution provider options MmServe sets (docs/gpu.md explains each).</summary>
/// <param name="GpuMemLimitBytes">ORT's <c>gpu_mem_limit</c>: the most bytes the session's CUDA arena may hold; 0 = no limit.</param>
/// <param name="ArenaExtendStrategy">ORT's <c>arena_extend_strategy</c>: "kSameAsRequested" or "kNextPowerOfTwo".</param>
/// <param name="CudnnConvAlgoSearch">ORT's <c>cudnn_conv_algo_search</c>: "EXHAUSTIVE", "HEURISTIC" or "DEFAULT".</param>
public sealed record CudaSettings(
    long GpuMemLimitBytes = 0,
    string ArenaExtendStrategy = "kSameAsRequested",
    string CudnnConvAlgoSearch = "EXHAUSTIVE")
{
    /// <summary>The provider option keys and values for <c>OrtCUDAProviderOptions.UpdateOptions</c>.</summary>
    public Dictionary<string, string> ProviderOptions(int deviceId)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["arena_extend_strategy"] = ArenaExtendStrategy,
            ["cudnn_conv_algo_search"] = CudnnConvAlgoSearch,
        };
        if (GpuMemLimitBytes > 0)
        {
            options["gpu_mem_limit"] = GpuMemLimitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return options;
    }
}
