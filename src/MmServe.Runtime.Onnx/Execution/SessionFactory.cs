using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Creates ORT sessions for one device. CUDA is used when asked for and available; when it is not (the CPU build
/// flavour, CUDA 13 / cuDNN 9 libraries not loadable, no GPU), creating a session throws
/// <see cref="ExecutionProviderUnavailableException"/> naming the setting, unless
/// <see cref="DeviceOptions.AllowCpuFallback"/> is set: then the sessions run on CPU and <see cref="Placement"/> says why.
/// </summary>
public sealed partial class SessionFactory
{
    private readonly DeviceOptions _device;
    private readonly ILogger _logger;
    private string? _cudaUnavailable;

    public SessionFactory(DeviceOptions device, ILogger logger)
    {
        _device = device;
        _logger = logger;
        Placement = new ExecutionPlacement(device.Device, device.IsCuda ? ExecutionPlacement.CudaProvider : ExecutionPlacement.CpuProvider, null);
    }

    public DeviceOptions Device => _device;

    /// <summary>Where the sessions created so far run (before the first session: where they are meant to).</summary>
    public ExecutionPlacement Placement { get; private set; }

    public InferenceSession Create(string modelPath)
    {
        if (_device.IsCuda && _cudaUnavailable is null)
        {
            if (TryCreateCuda(modelPath, out var reason) is { } session)
            {
                Placement = new ExecutionPlacement(_device.Device, ExecutionPlacement.CudaProvider, null);
                return session;
            }

            if (!_device.AllowCpuFallback)
            {
                throw new ExecutionProviderUnavailableException(_device.SettingKey, _device.Device, reason!);
            }

            _cudaUnavailable = reason;
            Log.CudaFallback(_logger, _device.SettingKey, _device.Device, reason!);
        }

        using var options = BaseOptions();
        Placement = new ExecutionPlacement(_device.Device, ExecutionPlacement.CpuProvider, _device.IsCuda ? _cudaUnavailable : null);
        return new InferenceSession(modelPath, options);
    }

    private InferenceSession? TryCreateCuda(string modelPath, out string? reason)
    {
        if (!OrtBuild.HasCuda)
        {
            reason = ExecutionProviderUnavailableException.CpuBuildReason;
            return null;
        }

        SessionOptions? options = null;
        try
        {
            options = BaseOptions();
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(_device.Cuda.ProviderOptions(_device.CudaDeviceId));
            options.AppendExecutionProvider_CUDA(cuda);
            reason = null;
            return new InferenceSession(modelPath, options);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            // ORT's message names the library that failed to load (libcudart.so.13, libcudnn.so.9) or the CUDA error.
            var detail = ex.Message.ReplaceLineEndings(" ").Trim();
            reason = $"the CUDA execution provider could not be started (it needs an NVIDIA driver, CUDA 13 and cuDNN 9 libraries on the library path, and a GPU): {detail}";
            return null;
        }
        finally
        {
            options?.Dispose();
        }
    }

    private SessionOptions BaseOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,

            // ORT's CPU arena stays on: it grows to the largest working set the step shapes need and then holds
            // still. Turning it off was measured worse: glibc malloc then fragments across the worker and thread-pool
            // threads and native memory kept growing (docs/benchmarks.md, the soak).
        };
        if (_device.IntraOpThreads > 0)
        {
            options.IntraOpNumThreads = _device.IntraOpThreads;
        }

        if (!_device.AllowSpinning)
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        }

        return options;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{SettingKey}:Device {Device} runs on CPU because {Reason} ({SettingKey}:AllowCpuFallback is set).")]
        public static partial void CudaFallback(ILogger logger, string settingKey, string device, string reason);
    }
}
