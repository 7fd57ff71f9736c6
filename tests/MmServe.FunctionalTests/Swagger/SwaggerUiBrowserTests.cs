using System.Diagnostics;
using System.Text.Json;
using MmServe.FunctionalTests.Auth;

namespace MmServe.FunctionalTests.Swagger;

/// <summary>
/// Swagger UI in a real headless Chromium (browser/swagger-authorize.mjs, over the DevTools protocol) against a server
/// with keys on: "Try it out" is refused with 401 before Authorize, and after typing the key into the Authorize dialog
/// the same call sends "Authorization: Bearer KEY" and succeeds — all under the page's Content-Security-Policy, which
/// must not block anything Swagger UI does.
/// </summary>
public sealed class SwaggerUiBrowserTests(ApiKeyServerFixture server) : IClassFixture<ApiKeyServerFixture>
{
    private static readonly string Script = Path.Combine(TestPaths.RepoRoot, "tests", "MmServe.FunctionalTests", "browser", "swagger-authorize.mjs");

    [ChromiumFact]
    public async Task AuthorizeButton_SendsTheKey_UnderTheContentSecurityPolicy()
    {
        Assert.True(Browser.ChromiumPath is not null, "chromium is not on PATH");
        var start = new ProcessStartInfo(NodeClient.NodePath ?? "node")
        {
            ArgumentList = { Script, Browser.ChromiumPath, server.Factory.BaseAddress.ToString(), TestApiKeys.Alice },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        try
        {
            await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            // The script has its own 60 s deadline; past 90 s something is stuck: leave no browser behind.
            node.Kill(entireProcessTree: true);
            Assert.Fail($"the browser script did not finish within 90 s: {await stderr}");
        }


        Assert.True(node.ExitCode == 0, $"the browser script failed ({node.ExitCode}): {await stderr}\n{await stdout}");
        using var report = JsonDocument.Parse(await stdout);
        var root = report.RootElement;
        Assert.True(root.GetProperty("authorizeButton").GetBoolean());
        Assert.Equal(401, root.GetProperty("statusWithoutKey").GetInt32());
        Assert.Equal(200, root.GetProperty("statusWithKey").GetInt32());
        Assert.Equal($"Bearer {TestApiKeys.Alice}", root.GetProperty("authorizationSent").GetString());
        Assert.Empty(root.GetProperty("cspViolations").EnumerateArray());
        Assert.Empty(root.GetProperty("exceptions").EnumerateArray());
        Assert.Empty(root.GetProperty("consoleErrors").EnumerateArray());
    }
}
