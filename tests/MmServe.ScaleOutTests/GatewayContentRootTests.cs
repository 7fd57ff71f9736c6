using MmServe.ScaleOutTests.Infrastructure;

namespace MmServe.ScaleOutTests;

/// <summary>
/// The gateway started by path from a folder with no appsettings.json (a script, a systemd unit) still reads the
/// appsettings.json shipped beside it (AppContentRoot, as the server does). Observed through a setting of that file:
/// ASP.NET Core's per-request lines are at Warning there, so requests log none of them.
/// </summary>
public sealed class GatewayContentRootTests
{
    [Fact]
    public async Task StartedFromAnotherFolder_ReadsTheAppsettingsBesideTheGateway()
    {
        var elsewhere = Directory.CreateTempSubdirectory("mmserve-gateway-cwd");
        int restPort = Cluster.FreePort();
        try
        {
            using var gateway = ServerProcess.Start(Cluster.GatewayDll,
            [
                $"--urls=http://127.0.0.1:{restPort}",
                "--Gateway:Grpc:Host=127.0.0.1",
                $"--Gateway:Grpc:Port={Cluster.FreePort()}",
                $"--Gateway:Workers:0:Rest=http://127.0.0.1:{Cluster.FreePort()}", // nothing listens: the worker is just down
            ], workingDirectory: elsewhere.FullName);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{restPort}/"), Timeout = TimeSpan.FromSeconds(5) };
            await WaitUntilLiveAsync(http, gateway, TimeSpan.FromSeconds(60));
            for (int i = 0; i < 3; i++)
            {
                using var live = await http.GetAsync("health/live");
                live.EnsureSuccessStatusCode();
            }

            gateway.Terminate();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await gateway.WaitForExitAsync(exit.Token);

            // The gateway did run and log (its own start-up lines), so the absence below is the setting, not silence.
            var output = gateway.Output();
            Assert.Contains("Now listening on", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Request starting", output, StringComparison.Ordinal);
        }
        finally
        {
            elsewhere.Delete(recursive: true);
        }
    }

    private static async Task WaitUntilLiveAsync(HttpClient http, ServerProcess gateway, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(gateway.HasExited, $"the gateway exited:\n{gateway.Output()}");
            try
            {
                using var response = await http.GetAsync("health/live");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        Assert.Fail($"the gateway was not live within {timeout}:\n{gateway.Output()}");
    }
}
