using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Runs ffmpeg/ffprobe for exactly as long as its call: killed (whole process tree) on timeout, on caller
/// cancellation, when stdout exceeds its cap, when the sink has enough, or when anything throws; always
/// reaped before this returns. No shell, no inherited environment, stdin closed.
/// </summary>
internal static class ToolProcessRunner
{
    private const int ChunkBytes = 64 * 1024;

    public static async Task<ProcessRunResult> RunAsync(ProcessRunRequest request, IStdoutSink sink, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (request.Timeout <= TimeSpan.Zero)
        {
            return new ProcessRunResult(ProcessEnd.TimedOut, -1, 0, string.Empty);
        }

        using var process = new Process { StartInfo = CreateStartInfo(request) };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            return new ProcessRunResult(ProcessEnd.FailedToStart, -1, 0, e.Message);
        }

        var killer = new ProcessKiller(process);
        try
        {
            // Nothing is ever fed on stdin; closing it makes any attempt to read it see end-of-file at once.
            process.StandardInput.Close();
            var diagnostics = CaptureBoundedAsync(process.StandardError.BaseStream, request.MaxDiagnosticBytes);
            long written;
            using (var timeout = new CancellationTokenSource(request.Timeout))
            using (timeout.Token.Register(() => killer.Kill(ProcessEnd.TimedOut)))
            using (cancellationToken.Register(killer.KillForCancellation))
            {
                written = await PumpStdoutAsync(process.StandardOutput.BaseStream, sink, request.MaxStdoutBytes, killer).ConfigureAwait(false);

                // Still inside the timeout: a process that closes stdout but keeps running is killed too.
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }

            string stderr = await diagnostics.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return new ProcessRunResult(killer.Reason ?? ProcessEnd.Exited, process.ExitCode, written, stderr);
        }
        finally
        {
            killer.EnsureGone();
        }
    }

    private static ProcessStartInfo CreateStartInfo(ProcessRunRequest request)
    {
        var startInfo = new ProcessStartInfo(request.Executable)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            WorkingDirectory = request.WorkingDirectory,
        };
        foreach (var argument in request.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // ffmpeg honours variables such as FFREPORT (writes a log file wherever it points) and http_proxy.
        // The tools need nothing from the server's environment, so they get none of it.
        startInfo.Environment.Clear();
        return startInfo;
    }

    private static async Task<long> PumpStdoutAsync(Stream stdout, IStdoutSink sink, long maxBytes, ProcessKiller killer)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            long total = 0;
            int read;
            while ((read = await stdout.ReadAsync(chunk.AsMemory(0, ChunkBytes)).ConfigureAwait(false)) > 0)
            {
                if (total + read > maxBytes)
                {
                    killer.Kill(ProcessEnd.OutputLimitExceeded);
                    break;
                }

                total += read;
                if (!sink.Accept(chunk.AsSpan(0, read)))
                {
                    killer.Kill(ProcessEnd.StoppedByReader);
                    break;
                }
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Drains stderr to the end (a full pipe would stall the tool) but keeps only its first bytes.</summary>
    private static async Task<string> CaptureBoundedAsync(Stream stderr, int maxBytes)
    {
        var kept = new byte[maxBytes];
        int length = 0;
        var chunk = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            int read;
            while ((read = await stderr.ReadAsync(chunk.AsMemory(0, 4096)).ConfigureAwait(false)) > 0)
            {
                int take = Math.Min(read, maxBytes - length);
                chunk.AsSpan(0, take).CopyTo(kept.AsSpan(length));
                length += take;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The process was killed and its pipe torn down; what was captured so far is all there is.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return Encoding.UTF8.GetString(kept, 0, length);
    }
}
