namespace MmServe.Media.Ffmpeg;

/// <summary>Why a tool process ended. Caller cancellation is not listed: it surfaces as <see cref="OperationCanceledException"/>.</summary>
internal enum ProcessEnd
{
    /// <summary>The process exited by itself; see <see cref="ProcessRunResult.ExitCode"/>.</summary>
    Exited,

    /// <summary>Killed because it ran past <see cref="ProcessRunRequest.Timeout"/>.</summary>
    TimedOut,

    /// <summary>Killed because stdout exceeded <see cref="ProcessRunRequest.MaxStdoutBytes"/>.</summary>
    OutputLimitExceeded,

    /// <summary>Killed because the <see cref="IStdoutSink"/> had seen enough (or too much).</summary>
    StoppedByReader,

    /// <summary>The executable could not be started at all.</summary>
    FailedToStart,
}

/// <param name="End">How the process ended.</param>
/// <param name="ExitCode">The exit status; meaningful only when <paramref name="End"/> is <see cref="ProcessEnd.Exited"/>.</param>
/// <param name="StdoutBytes">Bytes handed to the sink.</param>
/// <param name="Diagnostics">
/// The start of stderr, for server logs only: it may quote input paths or bytes, so it must never be put
/// into a client-facing message.
/// </param>
internal sealed record ProcessRunResult(ProcessEnd End, int ExitCode, long StdoutBytes, string Diagnostics)
{
    public bool Succeeded => End == ProcessEnd.Exited && ExitCode == 0;
}
