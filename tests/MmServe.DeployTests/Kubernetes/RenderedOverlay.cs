using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using MmServe.DeployTests.Docker;
using MmServe.DeployTests.Infrastructure;

namespace MmServe.DeployTests.Kubernetes;

/// <summary>A Kustomize overlay rendered by `kubectl kustomize` (once per test run) and parsed.</summary>
internal sealed class RenderedOverlay
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<RenderedOverlay>>> Cache = new();

    private RenderedOverlay(string name, IReadOnlyList<JsonObject> objects)
    {
        Name = name;
        Objects = objects;
    }

    public string Name { get; }

    public IReadOnlyList<JsonObject> Objects { get; }

    public static Task<RenderedOverlay> RenderAsync(string overlay) =>
        Cache.GetOrAdd(overlay, name => new Lazy<Task<RenderedOverlay>>(async () =>
        {
            var result = await ProcessRunner.RunAsync("kubectl", ["kustomize", RepoFiles.Overlay(name)], RepoFiles.Root, TimeSpan.FromMinutes(2));
            result.EnsureSuccess($"kubectl kustomize deploy/overlays/{name}");
            return new RenderedOverlay(name, [.. YamlJson.ParseAll(result.Stdout).Select(o => o.AsObject())]);
        })).Value;

    public IEnumerable<JsonObject> OfKind(string kind) => Objects.Where(o => (string?)o["kind"] == kind);

    public JsonObject Get(string kind, string name) =>
        OfKind(kind).SingleOrDefault(o => (string?)o["metadata"]!["name"] == name)
        ?? throw new InvalidOperationException($"{Name}: no {kind} {name}");

    /// <summary>Everything that runs pods, with its pod template's spec.</summary>
    public IEnumerable<Workload> Workloads() =>
        Objects.Where(o => (string?)o["kind"] is "Deployment" or "StatefulSet" or "DaemonSet" or "Job")
            .Select(o => new Workload(this, o));

    /// <summary>The one workload whose main container runs <paramref name="repository"/> (mmserve, mmserve-gateway).</summary>
    public Workload WorkloadOf(string repository) =>
        Assert.Single(Workloads(), w => ImageReference.Repository(w.MainContainer.Image).Split('/')[^1] == repository);

    public JsonObject? ConfigMap(string name) =>
        OfKind("ConfigMap").SingleOrDefault(o => (string?)o["metadata"]!["name"] == name);
}

/// <summary>A Deployment / StatefulSet / ... and its pod spec.</summary>
internal sealed class Workload(RenderedOverlay overlay, JsonObject resource)
{
    public JsonObject Resource { get; } = resource;

    public string Name => (string)Resource["metadata"]!["name"]!;

    public string Namespace => (string?)Resource["metadata"]!["namespace"] ?? "default";

    public JsonObject PodSpec => Resource["spec"]!["template"]!["spec"]!.AsObject();

    public JsonObject PodLabels => Resource["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();

    public IEnumerable<Container> Containers =>
        new[] { "initContainers", "containers" }.SelectMany(k => PodSpec[k]?.AsArray() ?? []).Select(c => new Container(this, c!.AsObject()));

    public Container MainContainer => Assert.Single(PodSpec["containers"]!.AsArray().Select(c => new Container(this, c!.AsObject())));

    public int TerminationGracePeriodSeconds => (int?)PodSpec["terminationGracePeriodSeconds"] ?? 30;

    public JsonObject? Volume(string name) =>
        PodSpec["volumes"]?.AsArray().Select(v => v!.AsObject()).SingleOrDefault(v => (string?)v["name"] == name);

    /// <summary>The file a ConfigMap mount puts at <paramref name="mountPath"/> (subPath mount), written to a temp file.</summary>
    public string? MountedConfigFile(Container container, string mountPath)
    {
        var mount = container.VolumeMounts.SingleOrDefault(m => (string?)m["mountPath"] == mountPath);
        if (mount is null)
        {
            return null;
        }

        var volume = Volume((string)mount["name"]!) ?? throw new InvalidOperationException($"{Name}: no volume {mount["name"]}");
        var configMapName = (string?)volume["configMap"]?["name"] ?? throw new InvalidOperationException($"{Name}: {mountPath} is not a ConfigMap");
        var configMap = overlay.ConfigMap(configMapName) ?? throw new InvalidOperationException($"{overlay.Name}: the ConfigMap {configMapName} that {Name} mounts is not rendered");
        var key = (string?)mount["subPath"] ?? throw new InvalidOperationException($"{Name}: mount the settings file with subPath so it lands as one file in the content root");
        var content = (string?)configMap["data"]?[key] ?? throw new InvalidOperationException($"ConfigMap {configMapName} has no key {key}");
        var path = Path.Combine(Directory.CreateTempSubdirectory("mmserve-configmap-").FullName, key);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Seconds the preStop hook waits: exec `sleep N` (or sh -c "sleep N"), or the sleep action; 0 without a hook.</summary>
    public static int PreStopSeconds(Container container)
    {
        var preStop = container.Spec["lifecycle"]?["preStop"];
        if (preStop is null)
        {
            return 0;
        }

        if (preStop["sleep"]?["seconds"] is { } seconds)
        {
            return (int)seconds;
        }

        var command = preStop?["exec"]?["command"]?.AsArray().Select(c => (string)c!).ToList();
        Assert.True(command is not null, $"{container.Name}: no preStop hook");
        var words = command is ["/bin/sh" or "sh", "-c", var script] ? DockerfileModel.ShellWords(script) : command;
        Assert.True(words is ["sleep", _], $"{container.Name}: preStop must be a sleep, got {string.Join(' ', command)}");
        return int.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}

internal sealed class Container(Workload workload, JsonObject spec)
{
    public Workload Workload { get; } = workload;

    public JsonObject Spec { get; } = spec;

    public string Name => (string)Spec["name"]!;

    public string Image => (string)Spec["image"]!;

    public IEnumerable<JsonObject> VolumeMounts => Spec["volumeMounts"]?.AsArray().Select(m => m!.AsObject()) ?? [];

    public int Port(string name) =>
        (int?)Spec["ports"]?.AsArray().SingleOrDefault(p => (string?)p!["name"] == name)?["containerPort"]
        ?? throw new InvalidOperationException($"{Workload.Name}/{Name} has no port named {name}");

    public IEnumerable<KeyValuePair<string, string?>> Env =>
        Spec["env"]?.AsArray().Select(e => KeyValuePair.Create((string)e!["name"]!, (string?)e["value"])) ?? [];

    public IEnumerable<(string Kind, JsonObject Probe)> Probes =>
        new[] { "startupProbe", "readinessProbe", "livenessProbe" }.Where(k => Spec[k] is not null).Select(k => (k, Spec[k]!.AsObject()));

    /// <summary>Pod-level securityContext value, overridden by the container's.</summary>
    public JsonNode? Security(string field) => Spec["securityContext"]?[field] ?? Workload.PodSpec["securityContext"]?[field];
}
