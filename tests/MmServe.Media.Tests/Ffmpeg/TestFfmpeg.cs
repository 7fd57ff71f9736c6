using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>The ffmpeg install the tests run against, found once, and the policy for when it is missing.</summary>
internal static class TestFfmpeg
{
    /// <summary>Set to 1 (as CI images with ffmpeg should) to turn "ffmpeg missing" from a skip into a failure.</summary>
    public const string RequireVariable = "MMSERVE_REQUIRE_FFMPEG";

    private static readonly Lazy<FfmpegTools> LazyTools = new(() => FfmpegTools.DetectAsync().GetAwaiter().GetResult());

    public static FfmpegTools Tools => LazyTools.Value;

    /// <summary>The reason an ffmpeg test is skipped, or null when it must run (and fail if ffmpeg is missing).</summary>
    public static string? SkipReason => SkipReasonFor(Tools, Environment.GetEnvironmentVariable(RequireVariable));

    public static string? SkipReasonFor(FfmpegTools tools, string? requireValue) =>
        tools.IsAvailable || requireValue == "1"
            ? null
            : $"SKIPPED: ffmpeg/ffprobe are not usable ({tools.UnavailableReason}). Install ffmpeg, or set {RequireVariable}=1 to make this a failure.";

    /// <summary>Every ffmpeg test starts here, so with <see cref="RequireVariable"/>=1 a missing install fails loudly.</summary>
    public static FfmpegTools RequireTools()
    {
        Assert.True(Tools.IsAvailable, $"ffmpeg is required ({RequireVariable}=1) but unusable: {Tools.UnavailableReason}");
        return Tools;
    }
}
