using MmServe.DeployTests.Docker;

namespace MmServe.DeployTests.Infrastructure;

/// <summary>The configuration a container of a Dockerfile target gets from a deploy file's settings file and env.</summary>
internal static class DeploySettings
{
    public static DockerfileModel Dockerfile { get; } = DockerfileModel.Load(RepoFiles.Dockerfile);

    /// <summary>Where a deploy file must put appsettings.Production.json for the target's app to read it.</summary>
    public static string SettingsMountPath(string target) =>
        Dockerfile.Workdir(Dockerfile.Stage(target)).TrimEnd('/') + "/appsettings.Production.json";

    /// <summary>The appsettings.json the target's image ships.</summary>
    public static string ShippedAppSettings(string target) => target == "gateway"
        ? Path.Combine(RepoFiles.Root, Path.GetDirectoryName(GatewayApp.Project)!, "appsettings.json")
        : RepoFiles.WorkerAppSettings;

    public static ContainerSettings For(string target, string? mountedSettingsFile, IEnumerable<KeyValuePair<string, string?>> containerEnv) =>
        ContainerSettings.For(ShippedAppSettings(target), mountedSettingsFile, Dockerfile.Env(Dockerfile.Stage(target)), containerEnv);

    /// <summary>
    /// The generic host reads shutdownTimeoutSeconds, but both apps then set its shutdown timeout from their own
    /// settings (Engine:ShutdownTimeout, Gateway:ShutdownTimeout): a deploy file that sets it to anything but what the
    /// app really uses promises a drain that does not happen.
    /// </summary>
    public static void AssertNoOverriddenHostTimeout(ContainerSettings settings, TimeSpan realHostShutdownTimeout, string where)
    {
        if (settings.Configuration["shutdownTimeoutSeconds"] is { } seconds)
        {
            Assert.True(
                TimeSpan.FromSeconds(double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture)) == realHostShutdownTimeout,
                $"{where}: shutdownTimeoutSeconds is {seconds}, but the app's host shuts down after {realHostShutdownTimeout.TotalSeconds} s (it sets the timeout from its own settings); remove the key");
        }
    }
}
