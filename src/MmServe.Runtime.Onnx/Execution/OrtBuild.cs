namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// The ONNX Runtime package this server was built against (MSBuild <c>-p:OrtFlavor=cpu|cuda</c>, Directory.Build.props;
/// also stamped as the assembly's "OrtFlavor" metadata).
/// </summary>
public static class OrtBuild
{
#if ORT_CUDA
    /// <summary>"cuda": Microsoft.ML.OnnxRuntime.Gpu.Linux (CUDA 13 + cuDNN 9); the CUDA execution provider can be loaded.</summary>
    public const string Flavor = "cuda";
#else
    /// <summary>"cpu": Microsoft.ML.OnnxRuntime, which has no CUDA execution provider.</summary>
    public const string Flavor = "cpu";
#endif

    public static bool HasCuda => Flavor == "cuda";

    /// <summary>The native ONNX Runtime version actually loaded (e.g. "1.31.0").</summary>
    public static string RuntimeVersion => Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
}
