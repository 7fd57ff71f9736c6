using MmServe.Soak.Memory;

namespace MmServe.Soak.Reporting;

/// <summary>One row of the soak: the time, the requests so far, and the server's memory at that moment.</summary>
internal sealed record MemorySample(TimeSpan Elapsed, long Ok, long Failed, ProcessMemory Process, ServerMetrics Server, bool Idle = false)
{
    /// <summary>Everything resident that the GC did not commit: ORT arenas and sessions, native libraries, stacks, mapped files.</summary>
    public long? NativeEstimate => Server.GcCommitted is { } committed ? Process.Rss - committed : null;
}
