using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MmServe.TestSupport.Server;

/// <summary>
/// The real app on real Kestrel at a free port (so the OpenAI SDK and client disconnects go through sockets),
/// serving the test bundle with test-sized limits. Logs are captured in <see cref="Logs"/>.
/// </summary>
public sealed class MmServeFactory : WebApplicationFactory<Program>
{
    public const int MaxImages = 3;
    public const int MaxBodyBytes = 2 * 1024 * 1024;

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public MmServeFactory(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        _settings = new Dictionary<string, string?>
        {
            ["Model:Path"] = TestPaths.Bundle,
            ["Workers:0:Device"] = "cpu",
            ["Workers:0:IntraOpThreads"] = "1",
            ["Engine:MaxBatchSize"] = "32",
            ["Limits:MaxImagesPerRequest"] = MaxImages.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Limits:MaxRequestBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),

            // REST and gRPC (h2c) each on a free loopback port; the server binds both (see GrpcEndpointBinder).
            ["urls"] = "http://127.0.0.1:0",
            ["Grpc:Host"] = "127.0.0.1",
            ["Grpc:Port"] = "0",

            // The factory starts the host itself and wants start failures as exceptions (see StartupFailure).
            ["Hosting:ExitOnSetupError"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        _services = services;
        UseKestrel();
    }

    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>http://127.0.0.1:port/ of the running server.</summary>
    public Uri BaseAddress
    {
        get
        {
            var address = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
        }
    }

    public HttpClient CreateHttpClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Starts the server and waits until /health/ready says the warm-up is done.</summary>
    public async Task StartAndWaitReadyAsync()
    {
        StartServer();
        using var client = CreateHttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var response = await client.GetAsync("health/ready");
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The server did not become ready within 60 s.");
            }

            await Task.Delay(50);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }
}

/// <summary>One shared server for a test class.</summary>
public class ServerFixture : IAsyncLifetime
{
    public ServerFixture()
        : this(null)
    {
    }

    /// <param name="settings">Configuration on top of the test defaults.</param>
    protected ServerFixture(IReadOnlyDictionary<string, string?>? settings) => Factory = new(settings);

    public MmServeFactory Factory { get; }

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Factory.StartAndWaitReadyAsync();
        Client = Factory.CreateHttpClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The test bundle served with its GroupQueryAttention decoder (decoder variant "gqa", one shared KV buffer).</summary>
public sealed class GqaServerFixture() : ServerFixture(new Dictionary<string, string?> { ["Model:DecoderVariant"] = "gqa" });

/// <summary>The test bundle served with the manifest's own decoder (past and present concatenated), which CPU workers otherwise replace by "gqa".</summary>
public sealed class ConcatServerFixture() : ServerFixture(new Dictionary<string, string?> { ["Model:DecoderVariant"] = "decoder" });
