namespace MmServe.Runtime.Onnx.Execution;

/// <summary>Where a worker's sessions really run: the device asked for, the execution provider it got, and why not CUDA.</summary>
/// <param name="Device">The device asked for ("cpu", "cuda:0").</param>
/// <param name="ExecutionProvider">ONNX Runtime's name of the provider in use: "CUDAExecutionProvider" or "CPUExecutionProvider".</param>
/// <param name="FallbackReason">Why a CUDA device runs on CPU (only with AllowCpuFallback); null otherwise.</param>
public sealed record ExecutionPlacement(string Device, string ExecutionProvider, string? FallbackReason)
{
    public const string CudaProvider = "CUDAExecutionProvider";
    public const string CpuProvider = "CPUExecutionProvider";

    public bool IsCuda => ExecutionProvider == CudaProvider;
}

/// <summary>
/// A worker asked for CUDA and cannot have it (CPU build flavour, CUDA or cuDNN libraries not loadable, no GPU), and
/// its AllowCpuFallback is off: a start-up error naming the setting, because a silent 50x slowdown is worse than a stop.
/// </summary>
public sealed class ExecutionProviderUnavailableException : Exception
{
    public ExecutionProviderUnavailableException(string settingKey, string device, string reason)
        : base($"{settingKey}:Device '{device}' asks for CUDA, but {reason}. Fix that, or set {settingKey}:AllowCpuFallback=true to run this worker on CPU.")
    {
        SettingKey = settingKey;
        Reason = reason;
    }

    /// <summary>"Workers:N" (or "Models:M:Workers:N").</summary>
    public string SettingKey { get; }

    /// <summary>Why CUDA cannot be used, as a clause ("this server is the CPU build ...").</summary>
    public string Reason { get; }

    /// <summary>The reason when the server was built without the GPU package.</summary>
    public const string CpuBuildReason =
        "this server is the CPU build of MmServe (OrtFlavor=cpu), whose ONNX Runtime has no CUDA execution provider; build it with -p:OrtFlavor=cuda";
}
