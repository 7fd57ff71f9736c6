using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;

namespace MmServe.FunctionalTests.Auth;

/// <summary>A server with API keys on (<see cref="TestApiKeys"/>) and a counting engine.</summary>
public sealed class ApiKeyServerFixture : IAsyncLifetime
{
    private readonly TestApiKeys _keys = new();

    public ApiKeyServerFixture() => Factory = new MmServeFactory(_keys.Settings(), CountingEngine.Register);

    public MmServeFactory Factory { get; }

    public CountingEngine Engine => Factory.Services.GetRequiredService<CountingEngine>();

    /// <summary>A client that sends <paramref name="key"/> as a bearer token (none when null).</summary>
    public HttpClient Client(string? key)
    {
        var client = Factory.CreateHttpClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public Task InitializeAsync() => Factory.StartAndWaitReadyAsync();

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        _keys.Dispose();
    }
}
