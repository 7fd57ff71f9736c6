namespace MmServe.Runtime.Onnx.Execution;

/// <summary>How one worker's ONNX Runtime sessions are created.</summary>
/// <param name="Device">"cpu" or "cuda:N".</param>
/// <param name="IntraOpThreads">Threads per operator (0 = ORT default: all cores).</param>
public sealed record DeviceOptions(string Device = "cpu", int IntraOpThreads = 0)
{
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
