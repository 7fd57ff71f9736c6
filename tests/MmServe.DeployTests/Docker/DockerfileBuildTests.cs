using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Net.Client;
using MmServe.DeployTests.Infrastructure;
using MmServe.Grpc.V1;
using Xunit.Abstractions;

namespace MmServe.DeployTests.Docker;

/// <summary>The build context, copied once through .dockerignore for the class, and a folder for publish outputs.</summary>
public sealed class DockerContextFixture : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("mmserve-docker-");

    public DockerContextFixture()
    {
        Context = Path.Combine(_root.FullName, "context");
        Output = Path.Combine(_root.FullName, "out");
        FilesCopied = DockerContext.Load(RepoFiles.DockerIgnore).CopyTo(RepoFiles.Root, Context);
    }

    public string Context { get; }

    public string Output { get; }

    public int FilesCopied { get; }

    public void Dispose() => _root.Delete(recursive: true);
}

/// <summary>
/// Keeps the Dockerfile honest without a container runtime: each target's `dotnet publish` line runs verbatim on the
/// build context .dockerignore lets through, and the published app is started the way ENTRYPOINT and ENV start it
/// (ports moved to free ones), then must be ready, pass the image's own HEALTHCHECK command, bind its ports on every
/// interface, answer REST and gRPC (the worker from its baked-in model, the gateway by forwarding to a real worker), and
/// stop cleanly on SIGTERM.
/// </summary>
public sealed class DockerfileBuildTests(DockerContextFixture context, ITestOutputHelper output) : IClassFixture<DockerContextFixture>
{
    private static readonly DockerfileModel Dockerfile = DockerfileModel.Load(RepoFiles.Dockerfile);

    [CurlFact]
    public async Task CpuTarget_PublishedAsTheDockerfileBuildsIt_ServesTheBakedModelAndPassesItsHealthcheck()
    {
        var image = await PublishedImage.BuildAsync(Dockerfile, "cpu", context.Context, context.Output, output);
        Assert.Equal(Path.Combine(context.Output, "publish-cpu"), image.AppDirectory);

        int restPort = ServerProcess.FreePort(), grpcPort = ServerProcess.FreePort();
        var env = image.Env.ToDictionary();
        Assert.True(env.ContainsKey("ASPNETCORE_HTTP_PORTS") && env.ContainsKey("Grpc__Port"), "the worker image sets its ports in ENV");
        env["ASPNETCORE_HTTP_PORTS"] = restPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["Grpc__Port"] = grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // The baked-in model: Model__Path names the folder a COPY from the context put into the image.
        Assert.True(File.Exists(Path.Combine(env["Model__Path"], "manifest.json")), $"Model__Path {Dockerfile.Env(image.Stage)["Model__Path"]} holds no bundle");

        await using var server = ServerProcess.Start(image.Entrypoint, image.AppDirectory, env);
        var rest = new Uri($"http://127.0.0.1:{restPort}/");
        await server.WaitForAsync(rest, "/health/ready", TimeSpan.FromSeconds(120));

        // The image's HEALTHCHECK command, run by /bin/sh as Docker runs a shell-form CMD, with the image's environment.
        var (_, healthcheck) = Dockerfile.Healthcheck(image.Stage) ?? throw new InvalidOperationException("the cpu target has no HEALTHCHECK");
        var probe = await ProcessRunner.RunAsync("/bin/sh", ["-c", healthcheck], image.AppDirectory, TimeSpan.FromSeconds(10), env.ToDictionary(kv => kv.Key, kv => (string?)kv.Value));
        Assert.True(probe.ExitCode == 0, $"HEALTHCHECK `{healthcheck}` failed with {probe.ExitCode}: {probe.Stderr}{probe.Stdout}");

        // A golden case of the bundle, token for token, from the published build and the baked model.
        var golden = GoldenCases.ImageCaption;
        using (var client = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromSeconds(60) })
        using (var response = await client.PostAsJsonAsync(Chat.Route, golden.ToRequest()))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            using var json = JsonDocument.Parse(body);
            var choice = json.RootElement.GetProperty("choices")[0];
            Assert.Equal(golden.CompletionTokenIds, Chat.Ints(choice.GetProperty("token_ids")));
            Assert.Equal(golden.CompletionText, choice.GetProperty("message").GetProperty("content").GetString());
        }

        // gRPC (h2c) on Grpc__Port, bound on every interface as Grpc__Host says (REST too, by ASPNETCORE_HTTP_PORTS).
        ListeningSockets.AssertBoundOnEveryInterface(grpcPort, "the worker's gRPC port");
        ListeningSockets.AssertBoundOnEveryInterface(restPort, "the worker's REST port");
        using (var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}"))
        {
            var models = await new ModelService.ModelServiceClient(channel).ListModelsAsync(new ListModelsRequest());
            Assert.Contains(models.Models, m => m.Id == Chat.Model);
        }

        // docker stop / kubelet: SIGTERM, then a clean exit well inside the grace periods the deploy files give.
        var started = DateTime.UtcNow;
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(45)));
        output.WriteLine($"stopped {(DateTime.UtcNow - started).TotalSeconds:F1} s after SIGTERM");
    }

    [Fact]
    public async Task CudaTarget_PublishesWithTheSameLineAsCpuPlusTheGpuFlavour()
    {
        var image = await PublishedImage.BuildAsync(Dockerfile, "cuda", context.Context, context.Output, output);
        var entryDll = Path.Combine(image.AppDirectory, image.Entrypoint[1]);
        Assert.True(File.Exists(entryDll), $"ENTRYPOINT {string.Join(' ', image.Entrypoint)}: {entryDll} was not published");
        Assert.True(File.Exists(Path.Combine(image.Env["Model__Path"], "manifest.json")), "the cuda image bakes in the model too");
        Assert.Equal("cuda", image.Env["Workers__0__Device"]);
    }

    [CurlFact]
    public async Task GatewayTarget_PublishedAsTheDockerfileBuildsIt_ForwardsRestAndGrpcToAWorker_AndPassesItsHealthcheck()
    {
        var image = await PublishedImage.BuildAsync(Dockerfile, "gateway", context.Context, context.Output, output);
        Assert.Equal(Path.Combine(context.Output, "publish-gateway"), image.AppDirectory);

        // One real worker (in process, on loopback) as the gateway's static worker list.
        int workerGrpcPort = ServerProcess.FreePort();
        await using var worker = new MmServeFactory(new Dictionary<string, string?> { ["Grpc:Port"] = workerGrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await worker.StartAndWaitReadyAsync();

        int restPort = ServerProcess.FreePort(), grpcPort = ServerProcess.FreePort();
        var env = image.Env.ToDictionary();
        Assert.True(env.ContainsKey("ASPNETCORE_HTTP_PORTS") && env.ContainsKey("Gateway__Grpc__Port"), "the gateway image sets its ports in ENV");
        env["ASPNETCORE_HTTP_PORTS"] = restPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["Gateway__Grpc__Port"] = grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["Gateway__Workers__0__Rest"] = worker.BaseAddress.ToString().TrimEnd('/');
        env["Gateway__Workers__0__Grpc"] = $"http://127.0.0.1:{workerGrpcPort}";

        await using var server = ServerProcess.Start(image.Entrypoint, image.AppDirectory, env);
        var rest = new Uri($"http://127.0.0.1:{restPort}/");
        // Ready once the worker passed a health check and its models were read.
        await server.WaitForAsync(rest, "/health/ready", TimeSpan.FromSeconds(60));

        var (_, healthcheck) = Dockerfile.Healthcheck(image.Stage) ?? throw new InvalidOperationException("the gateway target has no HEALTHCHECK");
        var probe = await ProcessRunner.RunAsync("/bin/sh", ["-c", healthcheck], image.AppDirectory, TimeSpan.FromSeconds(10), env.ToDictionary(kv => kv.Key, kv => (string?)kv.Value));
        Assert.True(probe.ExitCode == 0, $"HEALTHCHECK `{healthcheck}` failed with {probe.ExitCode}: {probe.Stderr}{probe.Stdout}");

        // Both listeners on every interface (Gateway__Grpc__Host from ENV), and both forward to the worker.
        ListeningSockets.AssertBoundOnEveryInterface(grpcPort, "the gateway's gRPC port");
        ListeningSockets.AssertBoundOnEveryInterface(restPort, "the gateway's REST port");
        using (var client = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromSeconds(30) })
        {
            Assert.Contains($"\"{Chat.Model}\"", await client.GetStringAsync("v1/models"), StringComparison.Ordinal);
        }

        using (var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}"))
        {
            var models = await new ModelService.ModelServiceClient(channel).ListModelsAsync(new ListModelsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.Contains(models.Models, m => m.Id == Chat.Model);
        }

        var started = DateTime.UtcNow;
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(45)));
        output.WriteLine($"stopped {(DateTime.UtcNow - started).TotalSeconds:F1} s after SIGTERM");
    }
}
