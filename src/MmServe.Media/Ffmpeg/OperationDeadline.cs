using System.Diagnostics;

namespace MmServe.Media.Ffmpeg;

/// <summary>
/// One wall-clock budget shared by every tool run of a request (probe, count, decode), so a file that is
/// slow at each step cannot take the timeout several times over.
/// </summary>
internal sealed class OperationDeadline(TimeSpan limit)
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public TimeSpan Limit { get; } = limit;

    public TimeSpan Remaining => Limit - Stopwatch.GetElapsedTime(_started);
}
