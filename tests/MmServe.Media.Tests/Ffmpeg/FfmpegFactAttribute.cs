namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>
/// A fact that needs ffmpeg/ffprobe: skipped with a loud reason when they are missing, unless
/// MMSERVE_REQUIRE_FFMPEG=1, in which case it runs and fails.
/// </summary>
public sealed class FfmpegFactAttribute : FactAttribute
{
    public FfmpegFactAttribute()
    {
        if (TestFfmpeg.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>The <see cref="FfmpegFactAttribute"/> policy for theories.</summary>
public sealed class FfmpegTheoryAttribute : TheoryAttribute
{
    public FfmpegTheoryAttribute()
    {
        if (TestFfmpeg.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
