namespace MmServe.DeployTests.Infrastructure;

/// <summary>Container image references: [registry/]repository[:tag][@digest].</summary>
internal static class ImageReference
{
    /// <summary>The tag, or null when the reference has none (a registry port's colon is not a tag).</summary>
    public static string? Tag(string image)
    {
        var withoutDigest = image.Split('@')[0];
        var lastSlash = withoutDigest.LastIndexOf('/');
        var colon = withoutDigest.IndexOf(':', lastSlash + 1);
        return colon < 0 ? null : withoutDigest[(colon + 1)..];
    }

    public static string Repository(string image)
    {
        var withoutDigest = image.Split('@')[0];
        var lastSlash = withoutDigest.LastIndexOf('/');
        var colon = withoutDigest.IndexOf(':', lastSlash + 1);
        return colon < 0 ? withoutDigest : withoutDigest[..colon];
    }

    /// <summary>A digest, or a tag that names a version: not missing, not "latest", and containing a digit.</summary>
    public static bool IsPinned(string image) =>
        image.Contains("@sha256:", StringComparison.Ordinal)
        || Tag(image) is { } tag && tag != "latest" && tag.Any(char.IsDigit);
}

/// <summary>Which Dockerfile target builds an image the deploy files run, by the names docker-compose.yml and deploy/ use.</summary>
internal static class DockerTargets
{
    public const string WorkerRepository = "mmserve";
    public const string GatewayRepository = "mmserve-gateway";

    /// <summary>cpu, cuda or gateway; null for images the Dockerfile does not build (Prometheus, Grafana).</summary>
    public static string? For(string image)
    {
        var repository = ImageReference.Repository(image).Split('/')[^1];
        var tag = ImageReference.Tag(image) ?? "";
        return repository switch
        {
            GatewayRepository => "gateway",
            WorkerRepository when tag.EndsWith("-cpu", StringComparison.Ordinal) => "cpu",
            WorkerRepository when tag.EndsWith("-cuda", StringComparison.Ordinal) => "cuda",
            WorkerRepository => throw new InvalidOperationException($"{image}: worker image tags end in -cpu or -cuda (the Dockerfile target)"),
            _ => null,
        };
    }
}
