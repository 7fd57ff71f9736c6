using System.ComponentModel;
using System.Diagnostics;

namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Kills a running tool together with anything it spawned, from whichever thread notices first (timeout
/// timer, cancellation, stdout reader), and remembers the first reason so the result reports the real cause.
/// </summary>
internal sealed class ProcessKiller(Process process)
{
    private const int NoReason = -1;

    private int _reason = NoReason;

    public ProcessEnd? Reason
    {
        get
        {
            int reason = Volatile.Read(ref _reason);
            return reason == NoReason ? null : (ProcessEnd)reason;
        }
    }

    public void Kill(ProcessEnd reason)
    {
        if (!HasExited())
        {
            Interlocked.CompareExchange(ref _reason, (int)reason, NoReason);
        }

        KillTree();
    }

    /// <summary>Kills without recording a reason: cancellation surfaces as an exception, not as a result.</summary>
    public void KillForCancellation() => KillTree();

    /// <summary>Last line of defence, run in <c>finally</c>: whatever happened, the process is dead and reaped on return.</summary>
    public void EnsureGone()
    {
        KillTree();
        try
        {
            // SIGKILL cannot be ignored; the bound only guards against a process stuck in the kernel.
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
        }
        catch (Win32Exception)
        {
        }
    }

    private bool HasExited()
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private void KillTree()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        catch (Win32Exception)
        {
            // Same race, reported by the OS.
        }
    }
}
