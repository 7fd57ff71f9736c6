using MmServe.DeployTests.Infrastructure;
using Xunit.Abstractions;

namespace MmServe.DeployTests.Docker;

/// <summary>
/// What one Dockerfile target would hold, built here without a container runtime: every `COPY --from=<publish stage>`
/// of the target is produced by running that stage's `dotnet publish` line verbatim (only its -o folder replaced) in a
/// copy of the build context; every `COPY <context path>` maps to that path in the copy. Container paths in ENV are
/// mapped the same way, so ENTRYPOINT can be started as the image would start it.
/// </summary>
internal sealed class PublishedImage
{
    private readonly List<(string ContainerPath, string LocalPath)> _paths;

    private PublishedImage(DockerStage stage, List<(string, string)> paths, IReadOnlyList<string> entrypoint, string workdir, IReadOnlyDictionary<string, string> env)
    {
        Stage = stage;
        _paths = paths;
        Entrypoint = entrypoint;
        AppDirectory = Map(workdir) ?? throw new InvalidOperationException($"WORKDIR {workdir} of stage {stage.Name} holds nothing the Dockerfile copies");
        Env = env.ToDictionary(kv => kv.Key, kv => Map(kv.Value) ?? kv.Value);
    }

    public DockerStage Stage { get; }

    /// <summary>The local folder standing for the target's WORKDIR (where ENTRYPOINT runs).</summary>
    public string AppDirectory { get; }

    public IReadOnlyList<string> Entrypoint { get; }

    /// <summary>The target's ENV, container paths replaced by their local stand-ins.</summary>
    public IReadOnlyDictionary<string, string> Env { get; }

    /// <summary>The `dotnet publish` argument lists that were run, as the Dockerfile writes them.</summary>
    public List<IReadOnlyList<string>> PublishCommands { get; } = [];

    public static async Task<PublishedImage> BuildAsync(
        DockerfileModel dockerfile, string target, string context, string outputRoot, ITestOutputHelper output)
    {
        var stage = dockerfile.Stage(target);
        var paths = new List<(string, string)>();
        var commands = new List<IReadOnlyList<string>>();
        foreach (var copy in dockerfile.Copies(stage))
        {
            if (copy.From is null)
            {
                var source = Assert.Single(copy.Sources);
                var inContext = Path.GetFullPath(Path.Combine(context, source));
                Assert.True(Path.Exists(inContext), $"COPY {source} {copy.Destination}: {source} is not in the build context (.dockerignore?)");
                paths.Add((copy.Destination, inContext));
                continue;
            }

            if (!dockerfile.IsStage(copy.From, stage.Index) || dockerfile.PublishCommands(dockerfile.Stage(copy.From)) is not [var publish])
            {
                continue; // a registry image or a stage without a publish (the .NET runtime copied into the CUDA image)
            }

            var from = dockerfile.Stage(copy.From);
            var args = publish.ToList();
            int o = args.FindIndex(a => a is "-o" or "--output");
            Assert.True(o >= 0 && o + 1 < args.Count, $"stage {from.Name}: dotnet publish without -o");
            Assert.Equal(args[o + 1].TrimEnd('/'), Assert.Single(copy.Sources).TrimEnd('/'));

            // The publish runs in the build stage's WORKDIR, into which `COPY . .` put the whole context.
            var workdir = dockerfile.Workdir(from);
            Assert.Contains(dockerfile.Copies(from), c => c.From is null && c.Sources is ["."] && (c.Destination is "." or "./" || c.Destination.TrimEnd('/') == workdir));

            var local = Path.Combine(outputRoot, from.Name);
            args[o + 1] = local;
            output.WriteLine($"[{from.Name}] dotnet {string.Join(' ', args)}");
            var started = DateTime.UtcNow;
            var result = await ProcessRunner.RunAsync("dotnet", args, context, TimeSpan.FromMinutes(10));
            result.EnsureSuccess($"stage {from.Name}: dotnet {string.Join(' ', publish)}");
            output.WriteLine($"[{from.Name}] published in {(DateTime.UtcNow - started).TotalSeconds:F0} s");
            commands.Add(publish);
            paths.Add((copy.Destination, local));
        }

        var image = new PublishedImage(stage, paths, dockerfile.Entrypoint(stage), dockerfile.Workdir(stage), dockerfile.Env(stage));
        image.PublishCommands.AddRange(commands);
        return image;
    }

    /// <summary>The local stand-in of a container path, or null when nothing was copied there.</summary>
    public string? Map(string containerPath)
    {
        foreach (var (container, local) in _paths.OrderByDescending(p => p.ContainerPath.Length))
        {
            var prefix = container.TrimEnd('/');
            if (containerPath == prefix || containerPath.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                return local + containerPath[prefix.Length..];
            }
        }

        return null;
    }
}
