using System.Diagnostics;

namespace MmServe.FunctionalTests.Infrastructure;

/// <summary>An outside program run to completion from the repository root (an oracle, a build): it must exit 0.</summary>
internal static class ToolProcess
{
    /// <returns>Its standard output.</returns>
    public static async Task<string> RunAsync(string program, IReadOnlyList<string> args, TimeSpan limit)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} {string.Join(' ', args)} did not finish within {limit.TotalSeconds} s");
        }

        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(program)} {string.Join(' ', args)} exited {process.ExitCode}:\n{await stderr}\n{await stdout}");
        return await stdout;
    }
}
