using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

[Collection(FfmpegCollection.Name)]
public sealed class FfmpegToolsTests
{
    [FfmpegFact]
    public async Task Finds_both_tools_on_the_path_and_reports_their_versions()
    {
        TestFfmpeg.RequireTools();

        var tools = await FfmpegTools.DetectAsync();

        Assert.True(tools.IsAvailable, tools.UnavailableReason);
        Assert.StartsWith("ffmpeg version ", tools.FfmpegVersion);
        Assert.StartsWith("ffprobe version ", tools.FfprobeVersion);
        Assert.True(Path.IsPathRooted(tools.FfmpegPath));
        Assert.EndsWith("ffprobe", tools.FfprobePath, StringComparison.Ordinal);
        Assert.Contains(tools.FfmpegVersion, tools.ToString(), StringComparison.Ordinal);
    }

    [FfmpegFact]
    public async Task Configured_absolute_paths_are_used_as_given()
    {
        var found = TestFfmpeg.RequireTools();

        var tools = await FfmpegTools.DetectAsync(new FfmpegToolOptions { FfmpegPath = found.FfmpegPath, FfprobePath = found.FfprobePath, SearchPath = string.Empty });

        Assert.True(tools.IsAvailable, tools.UnavailableReason);
        Assert.Equal(found.FfmpegPath, tools.FfmpegPath);
    }

    [Fact]
    public async Task A_missing_install_is_reported_without_throwing()
    {
        var tools = await FfmpegTools.DetectAsync(new FfmpegToolOptions { SearchPath = "/nonexistent-a:/nonexistent-b" });

        Assert.False(tools.IsAvailable);
        Assert.Contains("ffmpeg was not found", tools.UnavailableReason, StringComparison.Ordinal);
        Assert.Contains("ffprobe was not found", tools.UnavailableReason, StringComparison.Ordinal);
        Assert.StartsWith("ffmpeg unavailable", tools.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configured_path_that_is_not_an_executable_is_unavailable()
    {
        string notExecutable = Path.GetTempFileName();
        try
        {
            var tools = await FfmpegTools.DetectAsync(new FfmpegToolOptions { FfmpegPath = notExecutable, FfprobePath = notExecutable });

            Assert.False(tools.IsAvailable);
            Assert.Contains("not executable", tools.UnavailableReason, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(notExecutable);
        }
    }

    [Fact]
    public async Task A_tool_that_fails_its_version_check_is_unavailable()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the fake tools are shell scripts
        }

        var directory = Directory.CreateTempSubdirectory("mmserve-fake-ffmpeg-");
        try
        {
            foreach (var name in new[] { "ffmpeg", "ffprobe" })
            {
                string path = Path.Combine(directory.FullName, name);
                await File.WriteAllTextAsync(path, "#!/bin/sh\nexit 3\n");
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            }

            var tools = await FfmpegTools.DetectAsync(new FfmpegToolOptions { SearchPath = directory.FullName });

            Assert.False(tools.IsAvailable);
            Assert.Contains("-version did not succeed", tools.UnavailableReason, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Missing_ffmpeg_skips_loudly_unless_it_is_required()
    {
        var policy = ToolRequirement.Ffmpeg;

        Assert.Contains("SKIPPED", policy.SkipReasonFor("not installed", null), StringComparison.Ordinal);
        Assert.Contains(policy.RequireVariable, policy.SkipReasonFor("not installed", "0"), StringComparison.Ordinal);
        Assert.Null(policy.SkipReasonFor("not installed", "1"));
        Assert.Null(policy.SkipReasonFor(null, null));
    }

    [Fact]
    public async Task Every_component_answers_unavailable_when_ffmpeg_is_missing()
    {
        var missing = FfmpegTools.Disabled("not installed");

        var video = await new VideoFrameSampler(missing).SampleAsync(new byte[] { 1, 2, 3 }, 8);
        var audio = await new FfmpegAudioDecoder(missing).DecodeAsync(new byte[] { 1, 2, 3 }, 30);
        var probe = await new MediaProbe(missing).ProbeAsync(new byte[] { 1, 2, 3 }, FfmpegMediaKind.Video);

        Assert.Equal(FfmpegErrors.DecoderUnavailable, video.Error?.Code);
        Assert.Equal(FfmpegErrors.DecoderUnavailable, audio.Error?.Code);
        Assert.Equal(FfmpegErrors.DecoderUnavailable, probe.Error?.Code);
        Assert.Contains("Send WAV", audio.Error!.Message, StringComparison.Ordinal);
    }
}
