using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace MmServe.FunctionalTests.Infrastructure;

/// <summary>
/// The built server (MmServe.Api.dll next to the tests) as a real process: for what only a process shows — its exit
/// code, what it prints, and how it handles SIGTERM. Output is kept whole, stdout and stderr apart.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];

    private WorkerProcess(Process process) => _process = process;

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "MmServe.Api.dll");

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Stdout => Join(_stdout);

    public string Stderr => Join(_stderr);

    /// <param name="workingDirectory">Where the server is started from; the test's output folder (the app's) when null.</param>
    public static WorkerProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServerDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var worker = new WorkerProcess(new Process { StartInfo = start });
        worker._process.OutputDataReceived += (_, e) => Keep(worker._stdout, e.Data);
        worker._process.ErrorDataReceived += (_, e) => Keep(worker._stderr, e.Data);
        worker._process.Start();
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Starts the server and waits for it to exit on its own (a start that fails).</summary>
    public static async Task<WorkerProcess> RunToExitAsync(IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var worker = Start(args, environment);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await worker.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            worker.Dispose();
            throw new TimeoutException($"the server did not exit within {timeout.TotalSeconds} s; stdout:\n{worker.Stdout}");
        }

        return worker;
    }

    /// <summary>Polls /health/ready until it answers 200 (model loaded and warmed up).</summary>
    public async Task WaitUntilReadyAsync(Uri rest, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"the server exited with {ExitCode}:\n{Stdout}\n{Stderr}");
            }

            try
            {
                if ((await http.GetAsync(new Uri(rest, "health/ready"))).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the server was not ready within {timeout.TotalSeconds} s:\n{Stdout}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>SIGTERM, as Kubernetes and docker stop send it.</summary>
    public void Terminate()
    {
        if (SendSignal(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastWin32Error()}");
        }
    }

    public Task WaitForExitAsync(CancellationToken ct) => _process.WaitForExitAsync(ct);

    /// <summary>A port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    private static void Keep(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }

    private static string Join(List<string> lines)
    {
        lock (lines)
        {
            return string.Join('\n', lines);
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
