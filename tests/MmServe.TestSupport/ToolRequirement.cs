namespace MmServe.TestSupport;

/// <summary>
/// The one policy for tests that need a program from outside .NET (Debian's ffmpeg, Node.js). Where it is missing
/// they skip with a loud message saying what is missing and how to get it, unless its variable
/// (<see cref="RequireVariable"/>) is 1 — .ci/run sets MMSERVE_REQUIRE_FFMPEG=1 and MMSERVE_REQUIRE_NODE=1 after
/// installing them — in which case they run, and fail.
/// </summary>
public sealed class ToolRequirement
{
    private readonly Func<string?> _findProblem;
    private readonly string _remedy;

    /// <param name="requireVariable">The variable that, set to 1, turns a missing tool into a failure.</param>
    /// <param name="findProblem">What is missing, or null when the tool is there.</param>
    /// <param name="remedy">How to get it, for the skip message.</param>
    public ToolRequirement(string requireVariable, Func<string?> findProblem, string remedy)
    {
        RequireVariable = requireVariable;
        _findProblem = findProblem;
        _remedy = remedy;
    }

    /// <summary>ffmpeg and ffprobe on PATH: video input, and flac/ogg/webm/m4a audio.</summary>
    public static ToolRequirement Ffmpeg { get; } = new(
        "MMSERVE_REQUIRE_FFMPEG",
        () => FindOnPath("ffmpeg") is not null && FindOnPath("ffprobe") is not null ? null : "ffmpeg/ffprobe are not on PATH",
        "apt-get install ffmpeg; .ci/run installs it and sets MMSERVE_REQUIRE_FFMPEG=1");

    /// <summary>node on PATH and the npm packages of the Node.js gRPC client (<see cref="NodeClient"/>).</summary>
    public static ToolRequirement Node { get; } = new(
        "MMSERVE_REQUIRE_NODE",
        () => NodeClient.NodePath is not null && NodeClient.PackagesInstalled
            ? null
            : $"the Node.js gRPC client needs node on PATH and `npm ci` in {NodeClient.ClientDirectory}",
        ".ci/run does both and sets MMSERVE_REQUIRE_NODE=1");

    /// <summary>Where transformers.js, the conformance oracle, is installed (tools/conformance-models/oracle).</summary>
    public static string ConformanceOracleDirectory { get; } = Path.Combine(TestPaths.RepoRoot, "tools", "conformance-models", "oracle");

    /// <summary>
    /// node on PATH and transformers.js installed in tools/conformance-models/oracle (`npm ci --ignore-scripts`): the
    /// reference runtime that regenerates the Hugging Face conformance goldens.
    /// </summary>
    public static ToolRequirement ConformanceOracle { get; } = new(
        "MMSERVE_REQUIRE_NODE",
        () => NodeClient.NodePath is not null && Directory.Exists(Path.Combine(ConformanceOracleDirectory, "node_modules", "@huggingface", "transformers"))
            ? null
            : $"the conformance oracle needs node on PATH and `npm ci --ignore-scripts` in {ConformanceOracleDirectory}",
        ".ci/run does both and sets MMSERVE_REQUIRE_NODE=1");

    /// <summary>Debian's prometheus server on PATH: the scrape test runs a real one against the server.</summary>
    public static ToolRequirement Prometheus { get; } = new(
        "MMSERVE_REQUIRE_PROMETHEUS",
        () => FindOnPath("prometheus") is not null ? null : "prometheus is not on PATH",
        "apt-get install prometheus; .ci/run installs it and sets MMSERVE_REQUIRE_PROMETHEUS=1");

    /// <summary>A headless Chromium (Debian's chromium) and node: Swagger UI is driven in a real browser over the DevTools protocol.</summary>
    public static ToolRequirement Chromium { get; } = new(
        "MMSERVE_REQUIRE_CHROMIUM",
        () => Browser.ChromiumPath is null ? "chromium is not on PATH" : NodeClient.NodePath is null ? "node is not on PATH" : null,
        "apt-get install chromium nodejs; .ci/run installs them and sets MMSERVE_REQUIRE_CHROMIUM=1");

    /// <summary>Set to 1 to turn "missing" from a skip into a failure.</summary>
    public string RequireVariable { get; }

    public bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>What is missing, or null when the tool is there.</summary>
    public string? Problem => _findProblem();

    public bool Available => Problem is null;

    /// <summary>Null when the test should run; else the skip reason.</summary>
    public string? SkipReason => SkipReasonFor(Problem, Environment.GetEnvironmentVariable(RequireVariable));

    /// <summary>The policy itself: skip loudly when something is missing, unless the variable is 1.</summary>
    public string? SkipReasonFor(string? problem, string? requireValue) =>
        problem is null || requireValue == "1"
            ? null
            : $"SKIPPED LOUDLY: {problem} ({_remedy}).";

    /// <summary>The full path of <paramref name="tool"/> in the first PATH directory that has it, else null.</summary>
    public static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Where(dir => dir.Length > 0)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
}

/// <summary>The Node.js gRPC client of tests/MmServe.GrpcTests/node: node itself and the packages `npm ci` installs.</summary>
public static class NodeClient
{
    public static string ClientDirectory { get; } = Path.Combine(TestPaths.RepoRoot, "tests", "MmServe.GrpcTests", "node");

    public static string? NodePath { get; } = ToolRequirement.FindOnPath("node");

    public static bool PackagesInstalled =>
        Directory.Exists(Path.Combine(ClientDirectory, "node_modules", "@grpc", "grpc-js"))
        && Directory.Exists(Path.Combine(ClientDirectory, "node_modules", "@grpc", "proto-loader"));
}

/// <summary>The browser the Swagger UI test drives.</summary>
public static class Browser
{
    public static string? ChromiumPath { get; } =
        ToolRequirement.FindOnPath("chromium") ?? ToolRequirement.FindOnPath("chromium-browser") ?? ToolRequirement.FindOnPath("google-chrome");
}

/// <summary>A fact that needs a headless Chromium (see <see cref="ToolRequirement.Chromium"/>).</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute() => Skip = ToolRequirement.Chromium.SkipReason;
}

/// <summary>A fact that needs ffmpeg (see <see cref="ToolRequirement.Ffmpeg"/>).</summary>
public sealed class FfmpegFactAttribute : FactAttribute
{
    public FfmpegFactAttribute() => Skip = ToolRequirement.Ffmpeg.SkipReason;
}

/// <summary>A theory that needs ffmpeg (see <see cref="ToolRequirement.Ffmpeg"/>).</summary>
public sealed class FfmpegTheoryAttribute : TheoryAttribute
{
    public FfmpegTheoryAttribute() => Skip = ToolRequirement.Ffmpeg.SkipReason;
}

/// <summary>A theory that needs transformers.js (see <see cref="ToolRequirement.ConformanceOracle"/>).</summary>
public sealed class ConformanceOracleTheoryAttribute : TheoryAttribute
{
    public ConformanceOracleTheoryAttribute() => Skip = ToolRequirement.ConformanceOracle.SkipReason;
}

/// <summary>A fact that needs a Prometheus server (see <see cref="ToolRequirement.Prometheus"/>).</summary>
public sealed class PrometheusFactAttribute : FactAttribute
{
    public PrometheusFactAttribute() => Skip = ToolRequirement.Prometheus.SkipReason;
}

/// <summary>A fact that needs the Node.js gRPC client (see <see cref="ToolRequirement.Node"/>).</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute() => Skip = ToolRequirement.Node.SkipReason;
}
