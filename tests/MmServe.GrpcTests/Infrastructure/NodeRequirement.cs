using MmServe.Tests.Shared;

namespace MmServe.GrpcTests.Infrastructure;

/// <summary>
/// The Node.js client test needs node and the npm packages of tests/MmServe.GrpcTests/node (npm ci). Where they are
/// missing it skips with a message saying so, unless MMSERVE_REQUIRE_NODE=1 (set by .ci/run after npm ci), in
/// which case it runs and fails.
/// </summary>
public static class NodeRequirement
{
    public static string ClientDirectory { get; } = Path.Combine(TestPaths.RepoRoot, "tests", "MmServe.GrpcTests", "node");

    public static bool Required => Environment.GetEnvironmentVariable("MMSERVE_REQUIRE_NODE") == "1";

    public static string? NodePath { get; } = FindOnPath("node");

    public static bool PackagesInstalled =>
        Directory.Exists(Path.Combine(ClientDirectory, "node_modules", "@grpc", "grpc-js"))
        && Directory.Exists(Path.Combine(ClientDirectory, "node_modules", "@grpc", "proto-loader"));

    /// <summary>Null when the test should run; else the skip reason.</summary>
    public static string? SkipReason => (NodePath is not null && PackagesInstalled) || Required
        ? null
        : $"SKIPPED LOUDLY: the Node.js gRPC client needs node on PATH and `npm ci` in {ClientDirectory} (.ci/run does both and sets MMSERVE_REQUIRE_NODE=1).";

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Where(dir => dir.Length > 0)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
}

/// <summary>A fact that needs the Node.js client (see <see cref="NodeRequirement"/>).</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute() => Skip = NodeRequirement.SkipReason;
}
