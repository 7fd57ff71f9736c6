namespace MmServe.DeployTests.Infrastructure;

/// <summary>
/// What the deploy files assume about src/MmServe.Gateway, in one place for the tests (the deploy files themselves name
/// these keys only in deploy/base/gateway/appsettings.Production.json and deploy/compose/gateway.appsettings.json).
/// </summary>
internal static class GatewaySettings
{
    public const string Project = "src/MmServe.Gateway/MmServe.Gateway.csproj";

    /// <summary>A list of worker base URLs.</summary>
    public const string StaticKey = "Gateway:Workers:Static";

    /// <summary>A DNS name whose A records are the workers (a headless Service; a compose network alias).</summary>
    public const string DnsKey = "Gateway:Workers:Dns";

    public static string StaticEnv => StaticKey.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>The gateway's probe routes.</summary>
    public static readonly string[] ProbePaths = ["/health/live", "/health/ready"];
}
