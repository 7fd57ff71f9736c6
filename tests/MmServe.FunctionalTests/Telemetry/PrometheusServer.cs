using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace MmServe.FunctionalTests.Telemetry;

/// <summary>
/// A real Prometheus (Debian's package) scraping one target every 2 s, on loopback, with its own data folder. A
/// scrape timeout short enough to miss a scrape on a loaded machine would mark every series stale.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _folder;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, DirectoryInfo folder, Uri address)
    {
        _process = process;
        _folder = folder;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <param name="target">host:port of the /metrics endpoint.</param>
    public static async Task<PrometheusServer> StartAsync(string target)
    {
        var folder = Directory.CreateTempSubdirectory("mmserve-prometheus");
        var config = Path.Combine(folder.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 2s
              scrape_timeout: 2s
            scrape_configs:
              - job_name: mmserve
                metrics_path: /metrics
                static_configs:
                  - targets: ["{target}"]
            """);
        int port = FreePort();
        var start = new ProcessStartInfo(ToolRequirement.FindOnPath("prometheus")!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
                 {
                     $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder.FullName, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, folder, new Uri($"http://127.0.0.1:{port}/"));
        await server.WaitReadyAsync();
        return server;
    }

    /// <summary>The value of an instant query that returns one sample (summed with sum() by the caller), or null when empty.</summary>
    public async Task<double?> QueryAsync(string query)
    {
        var json = await _http.GetStringAsync($"api/v1/query?query={Uri.EscapeDataString(query)}");
        using var doc = JsonDocument.Parse(json);
        var result = doc.RootElement.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0
            ? null
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>Evaluates a query as a dashboard would: Prometheus's status ("success" or "error") and how many series came back.</summary>
    public async Task<(string Status, int Series, string Body)> EvaluateAsync(string query)
    {
        using var response = await _http.GetAsync($"api/v1/query?query={Uri.EscapeDataString(query)}");
        var body = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var status = root.GetProperty("status").GetString()!;
        int series = status == "success" ? root.GetProperty("data").GetProperty("result").GetArrayLength() : 0;
        return (status, series, body);
    }

    /// <summary>Polls until <paramref name="query"/> equals <paramref name="expected"/> (a scrape after the traffic), or the time is up.</summary>
    public async Task<double?> WaitForAsync(string query, double expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        double? value;
        do
        {
            value = await QueryAsync(query);
            if (value == expected)
            {
                return value;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        return value;
    }

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var response = await _http.GetAsync("-/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException("Prometheus did not become ready within 30 s.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _folder.Delete(recursive: true);
    }
}
