using System.Collections;
using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MmServe.DeployTests.Infrastructure;

/// <summary>
/// The real gateway app (its Program.cs, on a test server), started with the settings a deploy file gives it: it must
/// accept them (its options are validated on start), map the probe routes, and report what it really uses — the host's
/// shutdown timeout, its worker discovery and its gRPC listener — read from its own options object, so that a renamed
/// key or a changed default fails these tests instead of leaving the deploy files silently wrong. The gateway's types
/// are internal: the entry point and the options are reached by reflection, and a missing member fails loudly.
/// </summary>
internal sealed class GatewayApp
{
    public const string Project = "src/MmServe.Gateway/MmServe.Gateway.csproj";

    private static readonly Assembly Assembly = Assembly.Load("MmServe.Gateway");

    public required TimeSpan HostShutdownTimeout { get; init; }

    /// <summary>Gateway:Dns: the name whose addresses are the workers ("" with a static list), and their ports.</summary>
    public required (string Name, int RestPort, int GrpcPort) Dns { get; init; }

    /// <summary>Gateway:Workers: the static list (REST and gRPC base URLs).</summary>
    public required IReadOnlyList<(string RestUrl, string? GrpcUrl)> StaticWorkers { get; init; }

    /// <summary>Gateway:Grpc: the gateway's own h2c listener.</summary>
    public required (bool Enabled, string Host, int Port) Grpc { get; init; }

    /// <summary>Each path asked for, with the status it answered (no worker is reachable from the test).</summary>
    public required IReadOnlyDictionary<string, HttpStatusCode> Answers { get; init; }

    public static async Task<GatewayApp> StartAsync(IReadOnlyDictionary<string, string?> overrides, IEnumerable<string> paths)
    {
        // A test server, not Kestrel: nothing binds the deploy file's ports, and the gateway never reaches a worker.
        var entryPoint = Assembly.EntryPoint?.DeclaringType ?? throw new InvalidOperationException("MmServe.Gateway has no entry point");
        var factoryType = typeof(WebApplicationFactory<>).MakeGenericType(entryPoint);
        await using var factory = (IAsyncDisposable)Activator.CreateInstance(factoryType)!;
        Action<IWebHostBuilder> configure = builder =>
        {
            foreach (var (key, value) in overrides)
            {
                builder.UseSetting(key, value);
            }
        };
        var app = factoryType.GetMethod("WithWebHostBuilder")!.Invoke(factory, [configure])!;
        var services = (IServiceProvider)factoryType.GetProperty("Services")!.GetValue(app)!;
        using var client = (HttpClient)factoryType.GetMethod("CreateClient", Type.EmptyTypes)!.Invoke(app, null)!;

        var answers = new Dictionary<string, HttpStatusCode>();
        foreach (var path in paths.Distinct())
        {
            using var response = await client.GetAsync(path.TrimStart('/'));
            answers[path] = response.StatusCode;
        }

        var optionsType = Assembly.GetType("MmServe.Gateway.Options.GatewayOptions", throwOnError: true)!;
        var accessor = services.GetRequiredService(typeof(IOptions<>).MakeGenericType(optionsType));
        var options = accessor.GetType().GetProperty(nameof(IOptions<object>.Value))!.GetValue(accessor)!;
        return new GatewayApp
        {
            HostShutdownTimeout = services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout,
            Dns = (Read<string>(options, "Dns.Name"), Read<int>(options, "Dns.RestPort"), Read<int>(options, "Dns.GrpcPort")),
            StaticWorkers = [.. Read<IEnumerable>(options, "Workers").Cast<object>().Select(w => (Read<string>(w, "Rest"), Read<string?>(w, "Grpc")))],
            Grpc = (Read<bool>(options, "Grpc.Enabled"), Read<string>(options, "Grpc.Host"), Read<int>(options, "Grpc.Port")),
            Answers = answers,
        };
    }

    /// <summary>A property path of the gateway's options ("Dns.Name"), as the gateway bound it.</summary>
    private static T Read<T>(object options, string path)
    {
        object? value = options;
        foreach (var name in path.Split('.'))
        {
            var property = value!.GetType().GetProperty(name)
                ?? throw new InvalidOperationException($"{value.GetType().FullName} has no property {name}: the gateway's settings changed; update deploy/ and {nameof(GatewayApp)}");
            value = property.GetValue(value);
        }

        return (T)value!;
    }
}
