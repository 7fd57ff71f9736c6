using System.Diagnostics;
using System.Text.Json;
using MmServe.Bench.Running;
using MmServe.PeerBench.Workload;

namespace MmServe.PeerBench.InProcess;

/// <summary>
/// The "mmserve-inproc" arm: MmServe's serving layer with no HTTP, in a child process (MmServe.PeerBench.InProcess,
/// which loads the folder as the server does), driven run by run over its standard input and output. Started once,
/// so it warms up like a running server, not once per run.
/// </summary>
internal sealed class InProcessArm : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Process _process;

    private InProcessArm(Process process) => _process = process;

    /// <param name="dll">MmServe.PeerBench.InProcess.dll, built in Release.</param>
    public static async Task<InProcessArm> StartAsync(string dll, string modelFolder, int maxBatchSize)
    {
        if (!File.Exists(dll))
        {
            throw new ArgumentException($"--inproc-dll {dll} does not exist (build bench/MmServe.PeerBench.InProcess in Release)");
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "--model-folder", Path.GetFullPath(modelFolder), "--max-batch-size", maxBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var arm = new InProcessArm(process);
        if (await process.StandardOutput.ReadLineAsync() != "ready")
        {
            arm.Dispose();
            throw new InvalidOperationException("the in-process arm did not start (its error is above)");
        }

        return arm;
    }

    public async Task<RunResult> RunAsync(IReadOnlyList<PeerRequest> requests, int? concurrency, double? rate, int seed)
    {
        var run = new InProcessRun([.. requests.Select(r => new InProcessRequest(r.Index, r.UserText, r.OutputTokens))], concurrency, rate, seed);
        await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(run, Json));
        await _process.StandardInput.FlushAsync();
        var line = await _process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the in-process arm exited during a run");
        return JsonSerializer.Deserialize<RunResult>(line, Json)!;
    }

    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
