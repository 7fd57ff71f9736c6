using Microsoft.Extensions.Configuration;
using MmServe.Api.Grpc;

namespace MmServe.DeployTests.Infrastructure;

/// <summary>
/// The configuration a container of the app would see, layered as ASP.NET Core layers it: the appsettings.json the
/// image ships, the appsettings.Production.json a deploy file mounts into the content root (Production is the default
/// environment), then environment variables — the image's ENV, overridden by the container's (ASPNETCORE_ and DOTNET_
/// prefixes dropped, "__" read as ":").
/// </summary>
internal sealed class ContainerSettings
{
    private ContainerSettings(IConfigurationRoot configuration, IReadOnlyDictionary<string, string?> overrides)
    {
        Configuration = configuration;
        Overrides = overrides;
    }

    public IConfigurationRoot Configuration { get; }

    /// <summary>What the deploy files add on top of the shipped appsettings.json (mounted file, then environment).</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; }

    public static ContainerSettings For(
        string? shippedAppSettings, string? mountedProductionSettings,
        IReadOnlyDictionary<string, string> imageEnv, IEnumerable<KeyValuePair<string, string?>> containerEnv)
    {
        var environment = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in imageEnv)
        {
            environment[Key(name)] = value;
        }

        foreach (var (name, value) in containerEnv)
        {
            environment[Key(name)] = value;
        }

        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (mountedProductionSettings is not null)
        {
            foreach (var (key, value) in new ConfigurationBuilder().AddJsonFile(mountedProductionSettings).Build().AsEnumerable().Where(kv => kv.Value is not null))
            {
                overrides[key] = value;
            }
        }

        foreach (var (key, value) in environment)
        {
            overrides[key] = value;
        }

        var builder = new ConfigurationBuilder();
        if (shippedAppSettings is not null)
        {
            builder.AddJsonFile(shippedAppSettings);
        }

        builder.AddInMemoryCollection(overrides);
        return new ContainerSettings(builder.Build(), overrides);
    }

    /// <summary>The REST port: the first of `urls` (ASPNETCORE_URLS), else of `http_ports` (the aspnet image's way).</summary>
    public int RestPort
    {
        get
        {
            if (Configuration["urls"] is { Length: > 0 } urls)
            {
                return new Uri(urls.Split(';')[0].Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal)).Port;
            }

            var ports = Configuration["http_ports"];
            Assert.False(string.IsNullOrEmpty(ports), "neither ASPNETCORE_URLS nor ASPNETCORE_HTTP_PORTS is set: the app would listen on localhost:5000 only");
            return int.Parse(ports.Split(';')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The gRPC settings exactly as the app binds them (defaults included).</summary>
    public GrpcOptions Grpc => Configuration.GetSection(GrpcOptions.SectionName).Get<GrpcOptions>() ?? new GrpcOptions();

    public static bool BindsAllInterfaces(string host) => host is "*" or "+" or "0.0.0.0" or "[::]" or "::";

    private static string Key(string environmentVariable)
    {
        var name = environmentVariable;
        foreach (var prefix in new[] { "ASPNETCORE_", "DOTNET_" })
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                name = name[prefix.Length..];
            }
        }

        return name.Replace("__", ":", StringComparison.Ordinal);
    }
}
