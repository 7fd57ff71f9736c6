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
