using System.Net;
using System.Text.Json.Nodes;
using MmServe.DeployTests.Infrastructure;
using Xunit.Abstractions;

namespace MmServe.DeployTests.Compose;

/// <summary>
/// docker-compose.yml, validated and resolved by Debian's docker-compose, checked against the app: the gateway and two
/// CPU workers, a GPU worker behind the gpu profile, Prometheus scraping them all, Grafana with the dashboard.
/// </summary>
public sealed class DockerComposeTests(ITestOutputHelper output)
{
    private static readonly string[] CpuWorkers = ["worker-1", "worker-2"];

    [ComposeFact]
    public async Task ComposeFile_Validates_WithAndWithoutTheGpuProfile()
    {
        (await ProcessRunner.RunAsync("docker-compose", ["-f", RepoFiles.ComposeFile, "config", "-q"], RepoFiles.Root, TimeSpan.FromMinutes(1)))
            .EnsureSuccess("docker-compose -f docker-compose.yml config -q");
        (await ProcessRunner.RunAsync("docker-compose", ["--profile", "gpu", "-f", RepoFiles.ComposeFile, "config", "-q"], RepoFiles.Root, TimeSpan.FromMinutes(1)))
            .EnsureSuccess("docker-compose --profile gpu -f docker-compose.yml config -q");
    }

    [ComposeFact]
    public async Task ComposeFile_RunsTheGatewayTwoCpuWorkersPrometheusAndGrafana_FromPinnedImages_AndAGpuWorkerUnderItsProfile()
    {
        var compose = await RenderedCompose.WithGpuProfileAsync();
        var always = compose.Services.Where(s => RenderedCompose.Profiles(s.Value!.AsObject()).Count == 0).Select(s => s.Key).Order().ToList();
        Assert.Equal(["gateway", "grafana", "prometheus", "worker-1", "worker-2"], always);

        foreach (var (name, node) in compose.Services)
        {
            var service = node!.AsObject();
            var image = (string?)service["image"] ?? throw new InvalidOperationException($"{name} has no image");
            Assert.True(ImageReference.IsPinned(image), $"{name}: {image} is not pinned to a version tag");
            if (service["build"] is { } build)
            {
                Assert.Equal(RepoFiles.Root.TrimEnd('/'), ((string)build["context"]!).TrimEnd('/'));
                Assert.Equal(DockerTargets.For(image), (string?)build["target"]);
            }
        }

        Assert.All(CpuWorkers, w => Assert.Equal("cpu", (string?)compose.Service(w)["build"]!["target"]));
        Assert.Equal("gateway", (string?)compose.Service("gateway")["build"]!["target"]);

        var gpu = compose.Service("worker-gpu");
        Assert.Equal(["gpu"], RenderedCompose.Profiles(gpu));
        Assert.Equal("cuda", (string?)gpu["build"]!["target"]);
        var device = Assert.Single(gpu["deploy"]!["resources"]!["reservations"]!["devices"]!.AsArray())!;
        Assert.Equal("nvidia", (string?)device["driver"]);
        Assert.Contains("gpu", device["capabilities"]!.AsArray().Select(c => (string?)c));
        Assert.Equal(1, (int?)device["count"]);
    }

    [ComposeFact]
    public async Task ComposeWorkers_ProbeTheirRestPortOnARouteTheRealAppAnswers_RunReadOnly_AndGetTheirDrainTime()
    {
        var compose = await RenderedCompose.WithGpuProfileAsync();
        var checkedSettings = new HashSet<string>();
        foreach (var name in CpuWorkers.Append("worker-gpu"))
        {
            var service = compose.Service(name);
            var settings = SettingsOf(service);
            var url = RenderedCompose.HealthcheckUrl(service);
            Assert.Equal(settings.RestPort, url.Port);
            Assert.True((bool?)service["read_only"] == true, $"{name}: read_only is not true");
            Assert.Contains("/tmp", service["tmpfs"]!.AsArray().Select(t => ((string)t!).Split(':')[0]));
            Assert.Contains("ALL", service["cap_drop"]!.AsArray().Select(c => (string?)c));
            Assert.NotNull(service["deploy"]?["resources"]?["limits"]?["memory"]);

            // Start the real app once per distinct settings: the probe route answers, and stop_grace_period covers
            // the drain the app will really take (its host shutdown timeout: DrainDelay + Engine:ShutdownTimeout + 1 s).
            var key = string.Join(';', settings.Overrides.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"));
            if (!checkedSettings.Add(key))
            {
                continue;
            }

            var app = await WorkerApp.StartAsync(settings.Overrides, [url.AbsolutePath]);
            Assert.Equal(HttpStatusCode.OK, app.Answers[url.AbsolutePath]);
            var grace = RenderedCompose.Duration((string)service["stop_grace_period"]!);
            Assert.True(grace > app.DrainBudget, $"{name}: stop_grace_period {grace} must exceed the app's drain {app.DrainBudget}");
            DeploySettings.AssertNoOverriddenHostTimeout(settings, app.HostShutdownTimeout, name);
            output.WriteLine($"{name}: probe {url}, drain {app.DrainBudget.TotalSeconds} s, stop_grace_period {grace.TotalSeconds} s");
        }
    }

    [ComposeFact]
    public async Task ComposeGateway_PublishesRestAndGrpc_FindsEveryWorkerByTheAliasTheyShare_AndWaitsForThemToBeHealthy()
    {
        var compose = await RenderedCompose.WithGpuProfileAsync();
        var gateway = compose.Service("gateway");
        var settings = SettingsOf(gateway);
        var app = await GatewayApp.StartAsync(settings.Overrides, []);

        // REST and the gateway's own gRPC listener (bound on every interface, or the published port leads nowhere).
        var published = gateway["ports"]!.AsArray().Select(p => (int)p!["target"]!).Order();
        Assert.Equal(new[] { settings.RestPort, app.Grpc.Port }.Order(), published);
        Assert.True(app.Grpc.Enabled && ContainerSettings.BindsAllInterfaces(app.Grpc.Host), $"the gateway's gRPC listener is {app.Grpc.Host}:{app.Grpc.Port} (enabled: {app.Grpc.Enabled})");
        Assert.Equal(settings.RestPort, RenderedCompose.HealthcheckUrl(gateway).Port);
        Assert.True(RenderedCompose.Duration((string)gateway["stop_grace_period"]!) > app.HostShutdownTimeout, $"stop_grace_period must exceed the gateway's drain {app.HostShutdownTimeout}");
        DeploySettings.AssertNoOverriddenHostTimeout(settings, app.HostShutdownTimeout, "gateway");

        // Discovery by the alias every worker carries (not one service's name), so the gpu profile's worker joins;
        // the ports the gateway assumes are the ones each worker's settings bind.
        Assert.Empty(app.StaticWorkers);
        Assert.DoesNotContain(app.Dns.Name, compose.Services.Select(s => s.Key));
        foreach (var name in CpuWorkers.Append("worker-gpu"))
        {
            var worker = compose.Service(name);
            Assert.Contains(app.Dns.Name, worker["networks"]?["default"]?["aliases"]?.AsArray().Select(a => (string?)a) ?? []);
            var workerSettings = SettingsOf(worker);
            Assert.Equal(workerSettings.RestPort, app.Dns.RestPort);
            Assert.Equal(workerSettings.Grpc.Port, app.Dns.GrpcPort);
            Assert.True(ContainerSettings.BindsAllInterfaces(workerSettings.Grpc.Host), $"{name}: Grpc:Host {workerSettings.Grpc.Host} is not reachable from the gateway's container");
        }

        var dependsOn = gateway["depends_on"]!.AsObject();
        Assert.All(CpuWorkers, w => Assert.Equal("service_healthy", (string?)dependsOn[w]?["condition"]));
    }

    [ComposeFact]
    public async Task ComposePrometheus_ScrapesTheGatewayAndEveryWorker_AndGrafanaLoadsTheDashboard()
    {
        var compose = await RenderedCompose.WithGpuProfileAsync();
        var prometheus = compose.Service("prometheus");
        var configPath = RenderedCompose.HostPathMountedAt(prometheus, "/etc/prometheus/prometheus.yml") ?? throw new InvalidOperationException("prometheus.yml is not mounted");
        var config = YamlJson.Parse(File.ReadAllText(configPath));
        var jobs = config["scrape_configs"]!.AsArray().Select(j => j!.AsObject()).ToList();
        Assert.All(jobs, j => Assert.Equal("/metrics", (string?)j["metrics_path"] ?? "/metrics"));

        var gatewayPort = SettingsOf(compose.Service("gateway")).RestPort;
        Assert.Contains(jobs.SelectMany(j => j["static_configs"]?.AsArray() ?? []).SelectMany(s => s!["targets"]!.AsArray()), t => (string?)t == $"gateway:{gatewayPort}");

        var workerNames = CpuWorkers.Append("worker-gpu").ToList();
        var workerPort = SettingsOf(compose.Service("worker-1")).RestPort;
        var dnsConfigs = jobs.SelectMany(j => j["dns_sd_configs"]?.AsArray() ?? []).Select(d => d!.AsObject()).ToList();
        var staticTargets = jobs.SelectMany(j => j["static_configs"]?.AsArray() ?? []).SelectMany(s => s!["targets"]!.AsArray()).Select(t => (string)t!).ToList();
        foreach (var worker in workerNames)
        {
            var aliases = compose.Service(worker)["networks"]?["default"]?["aliases"]?.AsArray().Select(a => (string)a!).ToList() ?? [];
            Assert.True(
                staticTargets.Contains($"{worker}:{workerPort}")
                || dnsConfigs.Any(d => (int?)d["port"] == workerPort && d["names"]!.AsArray().Any(n => aliases.Contains((string)n!))),
                $"Prometheus does not scrape {worker} on {workerPort}");
        }

        if (ToolRequirement.FindOnPath("promtool") is { } promtool)
        {
            (await ProcessRunner.RunAsync(promtool, ["check", "config", configPath], RepoFiles.Root, TimeSpan.FromSeconds(30))).EnsureSuccess("promtool check config");
        }
        else
        {
            output.WriteLine("promtool is not on PATH (Debian's prometheus package has it): prometheus.yml was parsed but not checked by promtool");
        }

        var grafana = compose.Service("grafana");
        var provisioning = RenderedCompose.HostPathMountedAt(grafana, "/etc/grafana/provisioning")!;
        var dashboards = YamlJson.Parse(File.ReadAllText(Path.Combine(provisioning, "dashboards", "mmserve.yml")));
        var dashboardFolder = (string)dashboards["providers"]![0]!["options"]!["path"]!;
        var dashboard = RenderedCompose.HostPathMountedAt(grafana, dashboardFolder + "/mmserve-dashboard.json");
        Assert.Equal(RepoFiles.FromRoot("deploy/grafana/mmserve-dashboard.json"), dashboard);
        var datasource = YamlJson.Parse(File.ReadAllText(Path.Combine(provisioning, "datasources", "prometheus.yml")))["datasources"]![0]!;
        Assert.Equal("prometheus", (string?)datasource["type"]);
        Assert.True((bool?)datasource["isDefault"] == true, "the dashboard's datasource variable picks the default Prometheus source");
        Assert.Equal("prometheus", new Uri((string)datasource["url"]!).Host);
    }

    private static ContainerSettings SettingsOf(JsonObject service)
    {
        var target = DockerTargets.For((string)service["image"]!)!;
        var mounted = RenderedCompose.HostPathMountedAt(service, DeploySettings.SettingsMountPath(target));
        Assert.True(mounted is not null, $"{service["image"]}: no appsettings.Production.json mounted at {DeploySettings.SettingsMountPath(target)}");
        return DeploySettings.For(target, mounted, RenderedCompose.Environment(service));
    }
}
