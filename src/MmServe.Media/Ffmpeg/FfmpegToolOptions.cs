namespace MmServe.Media.Ffmpeg;

/// <summary>Where to find ffmpeg and ffprobe. Unset paths are searched for on <see cref="SearchPath"/>.</summary>
public sealed record FfmpegToolOptions
{
    /// <summary>Absolute path, or a bare file name to look up on the search path; null means "ffmpeg".</summary>
    public string? FfmpegPath { get; init; }

    /// <summary>Absolute path, or a bare file name to look up on the search path; null means "ffprobe".</summary>
    public string? FfprobePath { get; init; }

    /// <summary>Directories to search, separated like PATH; null means the process's PATH.</summary>
    public string? SearchPath { get; init; }

    /// <summary>How long <c>-version</c> may take before the tool is declared unusable.</summary>
    public TimeSpan VersionTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
