namespace MmServe.FunctionalTests.Infrastructure;

/// <summary>
/// Video tests need Debian's ffmpeg. Where it is missing they skip with a message saying so, unless
/// MMSERVE_REQUIRE_FFMPEG=1 (set by .ci/run after installing ffmpeg), in which case they run and fail.
/// </summary>
public static class FfmpegRequirement
{
    public static bool Required => Environment.GetEnvironmentVariable("MMSERVE_REQUIRE_FFMPEG") == "1";

    public static bool Available { get; } = OnPath("ffmpeg") && OnPath("ffprobe");

    /// <summary>Null when the test should run; else the skip reason.</summary>
    public static string? SkipReason => Available || Required
        ? null
        : "SKIPPED LOUDLY: ffmpeg/ffprobe are not on PATH (apt-get install ffmpeg; .ci/run installs it and sets MMSERVE_REQUIRE_FFMPEG=1).";

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, tool)));
}

/// <summary>A fact that needs ffmpeg (see <see cref="FfmpegRequirement"/>).</summary>
public sealed class FfmpegFactAttribute : FactAttribute
{
    public FfmpegFactAttribute() => Skip = FfmpegRequirement.SkipReason;
}

/// <summary>A theory that needs ffmpeg (see <see cref="FfmpegRequirement"/>).</summary>
public sealed class FfmpegTheoryAttribute : TheoryAttribute
{
    public FfmpegTheoryAttribute() => Skip = FfmpegRequirement.SkipReason;
}
