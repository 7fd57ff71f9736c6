namespace MmServe.DeployTests.Infrastructure;

/// <summary>
/// The programs these tests drive, under the repository's one skip policy (<see cref="ToolRequirement"/>): missing, they
/// skip loudly; .ci/run installs them and sets the variables that turn a skip into a failure.
/// </summary>
internal static class DeployTools
{
    /// <summary>kubectl with its built-in kustomize (the machine image's; else Debian's kubernetes-client).</summary>
    public static ToolRequirement Kubectl { get; } = new(
        "MMSERVE_REQUIRE_KUBECTL",
        () => ToolRequirement.FindOnPath("kubectl") is not null ? null : "kubectl is not on PATH",
        "kubectl 1.21+ renders Kustomize; apt-get install kubernetes-client where the machine has none; .ci/run sets MMSERVE_REQUIRE_KUBECTL=1");

    /// <summary>Debian's docker-compose (1.29): `config` validates and renders offline, no Docker engine needed.</summary>
    public static ToolRequirement Compose { get; } = new(
        "MMSERVE_REQUIRE_COMPOSE",
        () => ToolRequirement.FindOnPath("docker-compose") is not null ? null : "docker-compose is not on PATH",
        "apt-get install docker-compose; .ci/run installs it and sets MMSERVE_REQUIRE_COMPOSE=1");

    /// <summary>curl: the images' HEALTHCHECK command, run here against the published worker.</summary>
    public static ToolRequirement Curl { get; } = new(
        "MMSERVE_REQUIRE_CURL",
        () => ToolRequirement.FindOnPath("curl") is not null ? null : "curl is not on PATH",
        "apt-get install curl; .ci/run installs it and sets MMSERVE_REQUIRE_CURL=1");
}

internal sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute() => Skip = DeployTools.Kubectl.SkipReason;
}

internal sealed class KubectlTheoryAttribute : TheoryAttribute
{
    public KubectlTheoryAttribute() => Skip = DeployTools.Kubectl.SkipReason;
}

internal sealed class ComposeFactAttribute : FactAttribute
{
    public ComposeFactAttribute() => Skip = DeployTools.Compose.SkipReason;
}

internal sealed class CurlFactAttribute : FactAttribute
{
    public CurlFactAttribute() => Skip = DeployTools.Curl.SkipReason;
}
