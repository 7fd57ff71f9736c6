namespace MmServe.DeployTests.Infrastructure;

/// <summary>The deployment files under test and the app's own settings file.</summary>
internal static class RepoFiles
{
    public static string Root => TestPaths.RepoRoot;

    public static string Dockerfile => Path.Combine(Root, "Dockerfile");

    public static string DockerIgnore => Path.Combine(Root, ".dockerignore");

    public static string ComposeFile => Path.Combine(Root, "docker-compose.yml");

    public static string Overlay(string name) => Path.Combine(Root, "deploy", "overlays", name);

    /// <summary>The worker's appsettings.json, which the image ships in its content root.</summary>
    public static string WorkerAppSettings => Path.Combine(Root, "src", "MmServe.Api", "appsettings.json");

    /// <summary>A path relative to the repository root, as compose and kustomize files write them.</summary>
    public static string FromRoot(string relative) => Path.GetFullPath(Path.Combine(Root, relative));
}
