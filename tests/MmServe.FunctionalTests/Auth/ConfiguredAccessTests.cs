using System.Net;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Auth;

/// <summary>
/// An operator's choices: Auth:AnonymousPaths narrowed to the probes (metrics and Swagger then need a key too), and
/// CORS for one browser origin — a preflight, which never carries a key, is answered; other origins get no CORS headers.
/// </summary>
public sealed class ConfiguredAccessTests : IAsyncLifetime
{
    private const string Origin = "https://app.example.com";

    private readonly TestApiKeys _keys = new();
    private readonly MmServeFactory _factory;

    public ConfiguredAccessTests() => _factory = new MmServeFactory(_keys.Settings(new Dictionary<string, string?>
    {
        ["Auth:AnonymousPaths:0"] = "/health",
        ["Cors:Origins:0"] = Origin,
        ["RateLimits:RequestsPerMinute"] = "100",
    }));

    public Task InitializeAsync() => _factory.StartAndWaitReadyAsync();

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        _keys.Dispose();
    }

    [Theory]
    [InlineData("health/ready", HttpStatusCode.OK)]
    [InlineData("metrics", HttpStatusCode.Unauthorized)]
    [InlineData("load", HttpStatusCode.Unauthorized)]
    [InlineData("swagger/index.html", HttpStatusCode.Unauthorized)]
    public async Task OnlyTheConfiguredPathsAreOpen(string path, HttpStatusCode expected)
    {
        using var client = _factory.CreateHttpClient();
        using var response = await client.GetAsync(path);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Preflight_FromTheConfiguredOrigin_IsAnsweredWithoutAKey()
    {
        using var client = _factory.CreateHttpClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, Chat.Route);
        preflight.Headers.Add("Origin", Origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,x-stainless-os");

        using var response = await client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Origin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("authorization", response.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(Origin, true)]
    [InlineData("https://evil.example.com", false)]
    public async Task Responses_AllowOnlyTheConfiguredOrigin_AndExposeTheRateLimitHeaders(string origin, bool allowed)
    {
        using var client = _factory.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.Add("Origin", origin);
        request.Headers.Authorization = new("Bearer", TestApiKeys.Alice);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(allowed, response.Headers.Contains("Access-Control-Allow-Origin"));
        if (allowed)
        {
            Assert.Contains("x-ratelimit-remaining-requests", response.Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.OrdinalIgnoreCase);
        }
    }
}
