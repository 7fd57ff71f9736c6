using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>
/// The ffmpeg install the tests run against, found once. Whether an ffmpeg test runs at all is the shared policy's
/// call (<see cref="ToolRequirement.Ffmpeg"/>, through [FfmpegFact] and [FfmpegTheory]).
/// </summary>
internal static class TestFfmpeg
{
    private static readonly Lazy<FfmpegTools> LazyTools = new(() => FfmpegTools.DetectAsync().GetAwaiter().GetResult());

    public static FfmpegTools Tools => LazyTools.Value;

    /// <summary>Every ffmpeg test starts here, so a test that runs (ffmpeg on PATH, or required) without a usable install fails loudly.</summary>
    public static FfmpegTools RequireTools()
    {
        Assert.True(Tools.IsAvailable, $"ffmpeg is unusable ({Tools.UnavailableReason}), yet the test ran: ffmpeg/ffprobe are on PATH or {ToolRequirement.Ffmpeg.RequireVariable}=1");
        return Tools;
    }
}
