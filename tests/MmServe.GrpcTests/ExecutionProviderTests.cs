using System.Net.Http.Json;
using System.Text.Json;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// A CUDA worker on a server that cannot give it CUDA (here: the CPU build flavour) with AllowCpuFallback set runs on
/// CPU and says so: GetModel and GET /v1/models report, per worker, the device asked for, the execution provider it
/// really got, the reason and where its KV cache lives: one description, two translations.
/// </summary>
public sealed class ExecutionProviderTests() : GrpcServer(new MmServeFactory(new Dictionary<string, string?>
    {
        ["Workers:0:Device"] = "cuda:0",
        ["Workers:0:AllowCpuFallback"] = "true",
        ["Workers:1:Device"] = "cpu",
        ["Workers:1:IntraOpThreads"] = "1",
    }))
{
    [Fact]
    public async Task GetModel_ReportsTheCpuFallbackOfACudaWorkerAndItsReason()
    {
        var model = await Models.GetModelAsync(new GetModelRequest { Id = MmServe.TestSupport.Server.Chat.Model });
        var workers = model.Capabilities.Workers;
        Assert.Equal(2, workers.Count);
        Assert.Equal("cuda:0", workers[0].Device);
        Assert.Equal("CPUExecutionProvider", workers[0].ExecutionProvider);
        Assert.Contains("CPU build of MmServe (OrtFlavor=cpu)", workers[0].FallbackReason, StringComparison.Ordinal);
        Assert.Equal("host (shared buffer)", workers[0].KvCache); // on CPU after its fallback: the "gqa" decoder
        Assert.Equal("cpu", workers[1].Device);
        Assert.Equal("CPUExecutionProvider", workers[1].ExecutionProvider);
        Assert.Equal(string.Empty, workers[1].FallbackReason);
        Assert.Equal("cpu", model.Capabilities.Onnxruntime.Flavor);
        Assert.StartsWith("1.31.", model.Capabilities.Onnxruntime.Version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestAndGrpc_ReportTheSameWorkers()
    {
        var model = await Models.GetModelAsync(new GetModelRequest { Id = MmServe.TestSupport.Server.Chat.Model });
        using var rest = Factory.CreateHttpClient();
        var capabilities = (await rest.GetFromJsonAsync<JsonElement>("v1/models")).GetProperty("data")[0].GetProperty("capabilities");
        var workers = capabilities.GetProperty("workers").EnumerateArray().ToList();
        Assert.Equal(model.Capabilities.Workers.Count, workers.Count);
        for (int i = 0; i < workers.Count; i++)
        {
            var proto = model.Capabilities.Workers[i];
            Assert.Equal(proto.Device, workers[i].GetProperty("device").GetString());
            Assert.Equal(proto.ExecutionProvider, workers[i].GetProperty("execution_provider").GetString());
            Assert.Equal(proto.KvCache, workers[i].GetProperty("kv_cache").GetString());
            Assert.Equal(
                proto.FallbackReason,
                workers[i].TryGetProperty("fallback_reason", out var reason) ? reason.GetString() : string.Empty);
        }

        Assert.Equal("cpu", capabilities.GetProperty("onnxruntime").GetProperty("flavor").GetString());
        Assert.Equal(model.Capabilities.Onnxruntime.Version, capabilities.GetProperty("onnxruntime").GetProperty("version").GetString());
    }

    [Fact]
    public void StartupLog_WarnsAndReportsEachWorker()
    {
        var entries = Factory.Logs.Entries;
        Assert.Contains(entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning
            && e.Message.Contains("Workers:0:Device cuda:0 runs on CPU because this server is the CPU build", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Message.StartsWith("Model mmserve-tiny worker 0: device cuda:0, execution provider CPUExecutionProvider, KV cache on host; CPU fallback:", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Message == "Model mmserve-tiny worker 1: device cpu, execution provider CPUExecutionProvider, KV cache on host.");
    }
}
