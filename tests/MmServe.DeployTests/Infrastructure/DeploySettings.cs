using MmServe.DeployTests.Docker;

namespace MmServe.DeployTests.Infrastructure;

/// <summary>The configuration a container of a Dockerfile target gets from a deploy file's settings file and env.</summary>
internal static class DeploySettings
{
    public static DockerfileModel Dockerfile { get; } = DockerfileModel.Load(RepoFiles.Dockerfile);

    /// <summary>Where a deploy file must put appsettings.Production.json for the target's app to read it.</summary>
    public static string SettingsMountPath(string target) =>
        Dockerfile.Workdir(Dockerfile.Stage(target)).TrimEnd('/') + "/appsettings.Production.json";

    /// <summary>The appsettings.json the target's image ships (the gateway's once it exists).</summary>
    public static string? ShippedAppSettings(string target)
    {
        if (target != "gateway")
        {
            return RepoFiles.WorkerAppSettings;
        }

        var gateway = Path.Combine(RepoFiles.Root, Path.GetDirectoryName(GatewaySettings.Project)!, "appsettings.json");
        return File.Exists(gateway) ? gateway : null;
    }

    public static ContainerSettings For(string target, string? mountedSettingsFile, IEnumerable<KeyValuePair<string, string?>> containerEnv) =>
        ContainerSettings.For(ShippedAppSettings(target), mountedSettingsFile, Dockerfile.Env(Dockerfile.Stage(target)), containerEnv);

    /// <summary>The host's shutdown timeout as a settings file sets it (shutdownTimeoutSeconds), else the default 30 s.</summary>
    public static TimeSpan HostShutdownTimeout(ContainerSettings settings) =>
        settings.Configuration["shutdownTimeoutSeconds"] is { } seconds
            ? TimeSpan.FromSeconds(int.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture))
            : new Microsoft.Extensions.Hosting.HostOptions().ShutdownTimeout;
}
