using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// The real server process started by path from a folder with no appsettings.json (a script in the repo root, a
/// systemd unit): it must still read the appsettings.json shipped beside it (AppContentRoot). Observed through
/// a setting of that file: ASP.NET Core's per-request lines are at Warning there, so a request logs none of them.
/// </summary>
public sealed class ContentRootProcessTests
{
    [Fact]
    public async Task StartedFromAnotherFolder_ReadsTheAppsettingsBesideTheApp()
    {
        var elsewhere = Directory.CreateTempSubdirectory("mmserve-cwd");
        try
        {
            int port = WorkerProcess.FreePort();
            var rest = new Uri($"http://127.0.0.1:{port}/");
            using var server = WorkerProcess.Start([$"--urls={rest}", "--Grpc:Enabled=false"], workingDirectory: elsewhere.FullName);
            await server.WaitUntilReadyAsync(rest, TimeSpan.FromSeconds(90));
            using var http = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromSeconds(30) };
            using var models = await http.GetAsync("v1/models");
            models.EnsureSuccessStatusCode();
            server.Terminate();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await server.WaitForExitAsync(exit.Token);

            // The server did run and log (its own start-up lines), so the absence below is the setting, not silence.
            Assert.Contains("Now listening on", server.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("Request starting", server.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            elsewhere.Delete(recursive: true);
        }
    }
}
