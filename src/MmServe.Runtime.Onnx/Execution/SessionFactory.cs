using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Creates ORT sessions for one device. CUDA is tried when asked for; if the CUDA provider cannot be loaded
/// (no GPU, no CUDA 13 / cuDNN 9 libraries, CPU-only ORT package) the session falls back to CPU with one clear log line.
/// </summary>
public sealed partial class SessionFactory
{
    private readonly DeviceOptions _device;
    private readonly ILogger _logger;
    private bool _cudaUnavailable;

    public SessionFactory(DeviceOptions device, ILogger logger)
    {
        _device = device;
        _logger = logger;
    }

    /// <summary>The provider actually in use ("CUDA" or "CPU") after the first session was created.</summary>
    public string ActiveProvider { get; private set; } = "CPU";

    public InferenceSession Create(string modelPath)
    {
        if (_device.IsCuda && !_cudaUnavailable)
        {
            SessionOptions? cuda = null;
            try
            {
                cuda = BaseOptions();
                cuda.AppendExecutionProvider_CUDA(_device.CudaDeviceId);
                var session = new InferenceSession(modelPath, cuda);
                ActiveProvider = "CUDA";
                return session;
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                _cudaUnavailable = true;
                Log.CudaFallback(_logger, _device.Device, ex.Message);
            }
            finally
            {
                cuda?.Dispose();
            }
        }

        using var options = BaseOptions();
        ActiveProvider = "CPU";
        return new InferenceSession(modelPath, options);
    }

    private SessionOptions BaseOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
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
        [LoggerMessage(1, LogLevel.Warning, "Device {Device} requested but the CUDA execution provider is not available ({Reason}); this worker runs on CPU.")]
        public static partial void CudaFallback(ILogger logger, string device, string reason);
    }
}
