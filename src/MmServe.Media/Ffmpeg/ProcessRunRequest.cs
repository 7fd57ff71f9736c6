namespace MmServe.Media.Ffmpeg;

/// <summary>One tool invocation: arguments as a list (never a shell string) and the bounds it runs under.</summary>
/// <param name="Executable">Absolute path of ffmpeg or ffprobe.</param>
/// <param name="Arguments">Passed one by one through <c>ProcessStartInfo.ArgumentList</c>, so nothing is ever re-split or quoted.</param>
/// <param name="WorkingDirectory">A private directory; relative paths a tool might write land there.</param>
/// <param name="Timeout">Wall-clock limit after which the whole process tree is killed.</param>
/// <param name="MaxStdoutBytes">The process is killed as soon as it writes more than this to stdout.</param>
internal sealed record ProcessRunRequest(
    string Executable,
    IReadOnlyList<string> Arguments,
    string WorkingDirectory,
    TimeSpan Timeout,
    long MaxStdoutBytes)
{
    /// <summary>How much of stderr is kept for server-side diagnostics; the rest is read and dropped.</summary>
    public int MaxDiagnosticBytes { get; init; } = 8192;
}
