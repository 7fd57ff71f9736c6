using System.Net;
using System.Text.Json.Nodes;
using MmServe.DeployTests.Infrastructure;

namespace MmServe.DeployTests.Kubernetes;

/// <summary>
/// deploy/overlays/{cpu,gpu}, rendered by `kubectl kustomize`, checked against the apps: the ports their settings
/// bind, the probe routes they map and the shutdown timeouts they really use against the grace periods (asked of the
/// real worker and gateway, started in process with the overlay's ConfigMaps), the workers the gateway discovers, and
/// the security and resource rules every container must meet.
/// </summary>
public sealed class KustomizeOverlayTests
{
    public static TheoryData<string> Overlays() => ["cpu", "gpu"];

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public async Task Overlay_RunsOnlyImagesPinnedToATagThatTheDockerfileBuilds(string overlay)
    {
        var rendered = await RenderedOverlay.RenderAsync(overlay);
        var containers = rendered.Workloads().SelectMany(w => w.Containers).ToList();
        Assert.NotEmpty(containers);
        Assert.All(containers, c =>
        {
            Assert.True(ImageReference.IsPinned(c.Image), $"{c.Workload.Name}/{c.Name}: image {c.Image} is not pinned to a version tag");
            Assert.NotNull(DockerTargets.For(c.Image));
        });
        Assert.Equal(overlay == "gpu" ? "cuda" : "cpu", DockerTargets.For(rendered.WorkloadOf(DockerTargets.WorkerRepository).MainContainer.Image));
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public async Task Overlay_EveryContainer_HasResourcesAndRunsNonRootReadOnlyWithoutPrivileges(string overlay)
    {
        var rendered = await RenderedOverlay.RenderAsync(overlay);
        Assert.All(rendered.Workloads().SelectMany(w => w.Containers), c =>
        {
            var where = $"{overlay}: {c.Workload.Name}/{c.Name}";
            var resources = c.Spec["resources"];
            foreach (var field in new[] { "requests.cpu", "requests.memory", "limits.cpu", "limits.memory" })
            {
                var parts = field.Split('.');
                Assert.True(resources?[parts[0]]?[parts[1]] is not null, $"{where}: resources.{field} is not set");
            }

            Assert.True((bool?)c.Security("runAsNonRoot") == true, $"{where}: runAsNonRoot is not true");
            var uid = (long?)c.Security("runAsUser");
            Assert.True(uid is > 0, $"{where}: runAsUser must be a non-root uid");
            var target = DockerTargets.For(c.Image)!;
            Assert.Equal(DeploySettings.Dockerfile.User(DeploySettings.Dockerfile.Stage(target)), uid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));

            var security = c.Spec["securityContext"];
            Assert.True((bool?)security?["readOnlyRootFilesystem"] == true, $"{where}: readOnlyRootFilesystem is not true");
            Assert.True((bool?)security?["allowPrivilegeEscalation"] == false, $"{where}: allowPrivilegeEscalation is not false");
            Assert.Contains("ALL", security?["capabilities"]?["drop"]?.AsArray().Select(x => (string?)x) ?? []);

            // A read-only root needs a writable /tmp: ffmpeg's temporary media files, .NET's diagnostics sockets.
            var tmp = Assert.Single(c.VolumeMounts, m => (string?)m["mountPath"] == "/tmp");
            Assert.NotNull(c.Workload.Volume((string)tmp["name"]!)?["emptyDir"]);
        });
        Assert.All(rendered.Workloads(), w => Assert.True((bool?)w.PodSpec["automountServiceAccountToken"] == false, $"{w.Name}: automountServiceAccountToken should be false (the app never calls the API server)"));
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public async Task Overlay_ContainerAndServicePorts_AreThePortsTheAppsSettingsBind(string overlay)
    {
        var rendered = await RenderedOverlay.RenderAsync(overlay);

        var worker = rendered.WorkloadOf(DockerTargets.WorkerRepository);
        var settings = SettingsOf(worker.MainContainer);
        Assert.Equal(settings.RestPort, worker.MainContainer.Port("http"));
        var grpc = settings.Grpc;
        Assert.True(grpc.Enabled, "gRPC is switched off in the worker's settings");
        Assert.Equal(grpc.Port, worker.MainContainer.Port("grpc"));
        Assert.True(ContainerSettings.BindsAllInterfaces(grpc.Host), $"Grpc:Host is {grpc.Host}: the gRPC port would not be reachable from outside the pod");

        // The gateway's gRPC listener, as the real gateway binds it from the image's ENV and the ConfigMap.
        var gateway = rendered.WorkloadOf(DockerTargets.GatewayRepository);
        var gatewaySettings = SettingsOf(gateway.MainContainer);
        Assert.Equal(gatewaySettings.RestPort, gateway.MainContainer.Port("http"));
        var gatewayGrpc = (await GatewayApp.StartAsync(gatewaySettings.Overrides, [])).Grpc;
        Assert.True(gatewayGrpc.Enabled, "gRPC is switched off in the gateway's settings");
        Assert.Equal(gatewayGrpc.Port, gateway.MainContainer.Port("grpc"));
        Assert.True(ContainerSettings.BindsAllInterfaces(gatewayGrpc.Host), $"Gateway:Grpc:Host is {gatewayGrpc.Host}: the gateway's gRPC port would not be reachable from outside the pod");

        // Every Service port targets a named port of the pods it selects, with the same number; both apps' Services
        // carry REST and gRPC (the gateway's is how clients in the cluster reach its gRPC listener).
        foreach (var service in rendered.OfKind("Service"))
        {
            var selected = Assert.Single(rendered.Workloads(), w => Selects(service["spec"]!["selector"]!.AsObject(), w.PodLabels));
            var ports = service["spec"]!["ports"]!.AsArray();
            foreach (var port in ports)
            {
                var target = (string)port!["targetPort"]!;
                Assert.Equal((int)port["port"]!, selected.MainContainer.Port(target));
            }

            Assert.Equal(["grpc", "http"], ports.Select(p => (string)p!["targetPort"]!).Order());
            Assert.Equal("kubernetes.io/h2c", (string?)ports.Single(p => (string?)p!["targetPort"] == "grpc")!["appProtocol"]);
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public async Task Overlay_WorkerSettings_StartTheRealApp_WhoseRoutesAnswerTheProbesAndWhoseDrainFitsTheGracePeriod(string overlay)
    {
        var rendered = await RenderedOverlay.RenderAsync(overlay);
        var worker = rendered.WorkloadOf(DockerTargets.WorkerRepository);
        var container = worker.MainContainer;
        var probes = container.Probes.ToDictionary(p => p.Kind, p => p.Probe);
        Assert.Equal("/health/ready", (string?)probes["readinessProbe"]["httpGet"]?["path"]);
        Assert.Equal("/health/live", (string?)probes["livenessProbe"]["httpGet"]?["path"]);
        Assert.All(probes.Values, p => Assert.Equal("http", (string?)p["httpGet"]?["port"]));

        // The startup probe waits for model load and warm-up (minutes), then liveness tolerates a busy worker.
        static int Window(JsonObject probe) => ((int?)probe["periodSeconds"] ?? 10) * ((int?)probe["failureThreshold"] ?? 3);
        Assert.True(Window(probes["startupProbe"]) >= 300, $"startupProbe allows {Window(probes["startupProbe"])} s for model load; give it at least 5 minutes");
        Assert.True(Window(probes["livenessProbe"]) >= 30, "livenessProbe restarts a worker after less than 30 s of failures");
        Assert.True(Window(probes["readinessProbe"]) <= 15, "readinessProbe is slow to take a failing worker out of rotation");

        var monitorPath = (string)Assert.Single(rendered.OfKind("ServiceMonitor"))["spec"]!["endpoints"]![0]!["path"]!;
        var paths = probes.Values.Select(p => (string)p["httpGet"]!["path"]!).Append(monitorPath).ToList();
        var settings = SettingsOf(container);
        var app = await WorkerApp.StartAsync(settings.Overrides, paths);

        Assert.All(paths, path => Assert.True(app.Answers[path] == HttpStatusCode.OK, $"{path} answered {app.Answers[path]} on the real app"));

        // SIGTERM comes after preStop (if any); the worker serves on for Shutdown:DrainDelay, gives in-flight requests
        // Engine:ShutdownTimeout and exits a second later at most: the host's timeout is that sum.
        var preStop = Workload.PreStopSeconds(container);
        Assert.True(app.DrainDelay > TimeSpan.Zero, "the worker has no Shutdown:DrainDelay: it would stop accepting before the gateway noticed");
        Assert.Equal(app.DrainDelay + app.EngineShutdownTimeout + TimeSpan.FromSeconds(1), app.HostShutdownTimeout);
        var needed = preStop + app.DrainBudget.TotalSeconds;
        Assert.True(
            worker.TerminationGracePeriodSeconds > needed,
            $"terminationGracePeriodSeconds {worker.TerminationGracePeriodSeconds} must exceed preStop {preStop} s + Shutdown:DrainDelay {app.DrainDelay.TotalSeconds} s + Engine:ShutdownTimeout {app.EngineShutdownTimeout.TotalSeconds} s + 1 s");
        DeploySettings.AssertNoOverriddenHostTimeout(settings, app.HostShutdownTimeout, $"{overlay} worker");

        // The autoscaler's metric is one the app exports.
        var hpa = Assert.Single(rendered.OfKind("HorizontalPodAutoscaler"));
        var metric = (string)hpa["spec"]!["metrics"]![0]!["pods"]!["metric"]!["name"]!;
        Assert.Contains($"\n{metric}{{", "\n" + app.Metrics, StringComparison.Ordinal);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public async Task Overlay_Gateway_ProbesRoutesItAnswersWithoutWorkers_DiscoversTheHeadlessWorkerService_AndDrainsWithinItsGracePeriod(string overlay)
    {
        var rendered = await RenderedOverlay.RenderAsync(overlay);
        var gateway = rendered.WorkloadOf(DockerTargets.GatewayRepository);
        var container = gateway.MainContainer;
        var probes = container.Probes.ToDictionary(p => p.Kind, p => (string)p.Probe["httpGet"]!["path"]!);
        Assert.Equal(["livenessProbe", "readinessProbe", "startupProbe"], probes.Keys.Order());

        var settings = SettingsOf(container);
        var app = await GatewayApp.StartAsync(settings.Overrides, probes.Values);

        // No worker is reachable from the test, as at a first rollout while the workers still load their models (up
        // to 15 minutes): the gateway must start and stay alive then, so startup and liveness must not wait for
        // workers. Readiness does: an existing route that fails while no worker takes requests.
        Assert.All(["startupProbe", "livenessProbe"], kind => Assert.True(
            app.Answers[probes[kind]] == HttpStatusCode.OK,
            $"{kind} {probes[kind]} answered {app.Answers[probes[kind]]} on a gateway without workers: the kubelet would restart it until the workers are up"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, app.Answers[probes["readinessProbe"]]);

        var preStop = Workload.PreStopSeconds(container);
        Assert.True(
            gateway.TerminationGracePeriodSeconds > preStop + app.HostShutdownTimeout.TotalSeconds,
            $"terminationGracePeriodSeconds {gateway.TerminationGracePeriodSeconds} must exceed preStop {preStop} s + the gateway's host shutdown {app.HostShutdownTimeout.TotalSeconds} s");
        DeploySettings.AssertNoOverriddenHostTimeout(settings, app.HostShutdownTimeout, $"{overlay} gateway");

        // Discovery: the headless worker Service's name, and the ports the worker pods listen on.
        var worker = rendered.WorkloadOf(DockerTargets.WorkerRepository);
        var service = Assert.Single(rendered.OfKind("Service"), s => Selects(s["spec"]!["selector"]!.AsObject(), worker.PodLabels));
        Assert.Equal("None", (string?)service["spec"]!["clusterIP"]);
        var name = (string)service["metadata"]!["name"]!;
        var ns = (string)service["metadata"]!["namespace"]!;
        Assert.Empty(app.StaticWorkers);
        Assert.Contains(app.Dns.Name, new[] { name, $"{name}.{ns}", $"{name}.{ns}.svc", $"{name}.{ns}.svc.cluster.local" });
        Assert.Equal(worker.MainContainer.Port("http"), app.Dns.RestPort);
        Assert.Equal(worker.MainContainer.Port("grpc"), app.Dns.GrpcPort);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays))]
    public async Task Overlay_DisruptionBudgetsAutoscalerAndServiceMonitor_SelectWhatExists(string overlay)
    {
        var rendered = await RenderedOverlay.RenderAsync(overlay);
        var workloads = rendered.Workloads().ToList();
        foreach (var pdb in rendered.OfKind("PodDisruptionBudget"))
        {
            Assert.Single(workloads, w => Selects(pdb["spec"]!["selector"]!["matchLabels"]!.AsObject(), w.PodLabels));
        }

        Assert.Equal(2, rendered.OfKind("PodDisruptionBudget").Count());

        var hpa = Assert.Single(rendered.OfKind("HorizontalPodAutoscaler"));
        var target = hpa["spec"]!["scaleTargetRef"]!;
        var worker = rendered.WorkloadOf(DockerTargets.WorkerRepository);
        Assert.Equal(((string?)worker.Resource["kind"], worker.Name), ((string?)target["kind"], (string?)target["name"]));
        Assert.Null(worker.Resource["spec"]!["replicas"]); // the HPA owns it; an applied value would fight it
        Assert.True((int)hpa["spec"]!["minReplicas"]! >= 1 && (int)hpa["spec"]!["maxReplicas"]! > (int)hpa["spec"]!["minReplicas"]!);

        var monitor = Assert.Single(rendered.OfKind("ServiceMonitor"));
        var values = monitor["spec"]!["selector"]!["matchExpressions"]![0]!["values"]!.AsArray().Select(v => (string)v!).ToList();
        var monitored = rendered.OfKind("Service").Where(s => values.Contains((string)s["metadata"]!["labels"]![(string)monitor["spec"]!["selector"]!["matchExpressions"]![0]!["key"]!]!)).ToList();
        Assert.Equal(2, monitored.Count);
        var port = (string)monitor["spec"]!["endpoints"]![0]!["port"]!;
        Assert.All(monitored, s => Assert.Contains(s["spec"]!["ports"]!.AsArray(), p => (string?)p!["name"] == port));
    }

    [KubectlFact]
    public async Task GpuOverlay_GivesEachWorkerOneGpuOnAGpuNode_AndConfiguresItForCuda()
    {
        var rendered = await RenderedOverlay.RenderAsync("gpu");
        var worker = rendered.WorkloadOf(DockerTargets.WorkerRepository);
        var resources = worker.MainContainer.Spec["resources"]!;
        Assert.Equal("1", resources["limits"]!["nvidia.com/gpu"]!.ToString());
        Assert.Equal("1", resources["requests"]?["nvidia.com/gpu"]?.ToString() ?? "1");
        Assert.True(worker.PodSpec["nodeSelector"] is JsonObject { Count: > 0 } || worker.PodSpec["affinity"]?["nodeAffinity"] is not null, "GPU workers need a node selector or node affinity");
        Assert.Contains(worker.PodSpec["tolerations"]!.AsArray(), t => (string?)t!["key"] == "nvidia.com/gpu");
        Assert.StartsWith("cuda", SettingsOf(worker.MainContainer).Configuration["Workers:0:Device"], StringComparison.Ordinal);

        // The gateway needs no GPU.
        Assert.Null(rendered.WorkloadOf(DockerTargets.GatewayRepository).MainContainer.Spec["resources"]!["limits"]!["nvidia.com/gpu"]);
    }

    [KubectlFact]
    public async Task CpuOverlay_RequestsNoGpu_AndRunsCpuWorkers()
    {
        var rendered = await RenderedOverlay.RenderAsync("cpu");
        Assert.All(rendered.Workloads().SelectMany(w => w.Containers), c => Assert.DoesNotContain("nvidia.com/gpu", c.Spec["resources"]!.ToJsonString(), StringComparison.Ordinal));
        Assert.Equal("cpu", SettingsOf(rendered.WorkloadOf(DockerTargets.WorkerRepository).MainContainer).Configuration["Workers:0:Device"]);
    }

    private static ContainerSettings SettingsOf(Container container)
    {
        var target = DockerTargets.For(container.Image)!;
        var file = container.Workload.MountedConfigFile(container, DeploySettings.SettingsMountPath(target));
        Assert.True(file is not null, $"{container.Workload.Name}: no appsettings.Production.json mounted at {DeploySettings.SettingsMountPath(target)} (the image's WORKDIR)");
        try
        {
            return DeploySettings.For(target, file, container.Env);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    private static bool Selects(JsonObject selector, JsonObject labels) =>
        selector.Count > 0 && selector.All(kv => (string?)labels[kv.Key] == (string?)kv.Value);
}
