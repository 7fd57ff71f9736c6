using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace MmServe.FunctionalTests;

/// <summary>
/// A worker that asks for CUDA on a server that cannot give it (this is the CPU build flavour) stops the start with
/// a message naming Workers:N:Device and the reason, in process and as the real process's one stderr line, unless
/// AllowCpuFallback is set; /v1/models reports the execution provider every worker really got.
/// </summary>
public sealed class ExecutionProviderStartupTests
{
    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    public async Task CudaWorker_OnTheCpuBuild_FailsStartNamingTheKeyAndTheReason(string device)
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Workers:0:Device"] = "cpu",
            ["Workers:1:Device"] = device,
        });
        var error = Assert.ThrowsAny<Exception>(factory.StartServer).ToString();
        Assert.Contains($"Workers:1:Device '{device}' asks for CUDA, but this server is the CPU build of MmServe (OrtFlavor=cpu)", error, StringComparison.Ordinal);
        Assert.Contains("build it with -p:OrtFlavor=cuda", error, StringComparison.Ordinal);
        Assert.Contains("set Workers:1:AllowCpuFallback=true", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Workers:0:Device", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CudaWorker_OnTheCpuBuild_StopsTheRealProcessWithOneLine()
    {
        var serverDll = Path.Combine(AppContext.BaseDirectory, "MmServe.Api.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { serverDll, $"--Model:Path={TestPaths.Bundle}", "--Workers:0:Device=cuda", "--urls=http://127.0.0.1:0", "--Grpc:Host=127.0.0.1", "--Grpc:Port=0" },
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the server did not stop within 60 s; stdout:\n{await stdout}");
        }

        await stdout;
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1, process.ExitCode);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{string.Join('\n', lines)}");
        Assert.StartsWith("mmserve: failed to start: Workers:0:Device 'cuda' asks for CUDA, but this server is the CPU build", lines[0], StringComparison.Ordinal);
        Assert.Contains("Workers:0:AllowCpuFallback=true", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task CudaWorker_WithCpuFallbackAllowed_StartsAndModelsReportsWhatItGot()
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Workers:0:Device"] = "cuda",
            ["Workers:0:AllowCpuFallback"] = "true",
        });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        var capabilities = (await client.GetFromJsonAsync<JsonElement>("v1/models/mmserve-tiny")).GetProperty("capabilities");
        var worker = Assert.Single(capabilities.GetProperty("workers").EnumerateArray());
        Assert.Equal("cuda", worker.GetProperty("device").GetString());
        Assert.Equal("CPUExecutionProvider", worker.GetProperty("execution_provider").GetString());
        Assert.StartsWith("this server is the CPU build of MmServe (OrtFlavor=cpu)", worker.GetProperty("fallback_reason").GetString(), StringComparison.Ordinal);
        // Fallen back to CPU, the worker runs the bundle's shared-KV-buffer decoder (chosen per placement).
        Assert.Equal("host (shared buffer)", worker.GetProperty("kv_cache").GetString());
        Assert.Equal("cpu", capabilities.GetProperty("onnxruntime").GetProperty("flavor").GetString());

        // It serves: the golden greedy answer.
        using var response = await Chat.PostAsync(client, Chat.Request("What number comes after five?"));
        response.EnsureSuccessStatusCode();
        var reply = await Chat.ReadJsonAsync(response);
        Assert.Equal("six", reply.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task CpuWorker_ReportsCpuWithoutAFallbackReason()
    {
        await using var factory = new MmServeFactory();
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        var capabilities = (await client.GetFromJsonAsync<JsonElement>("v1/models")).GetProperty("data")[0].GetProperty("capabilities");
        var worker = Assert.Single(capabilities.GetProperty("workers").EnumerateArray());
        Assert.Equal("cpu", worker.GetProperty("device").GetString());
        Assert.Equal("CPUExecutionProvider", worker.GetProperty("execution_provider").GetString());
        Assert.False(worker.TryGetProperty("fallback_reason", out _));
        Assert.DoesNotContain(factory.Logs.Entries, e => e.Message.Contains("runs on CPU because", StringComparison.Ordinal));
    }
}
