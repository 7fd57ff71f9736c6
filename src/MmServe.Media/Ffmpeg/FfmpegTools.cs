using System.Diagnostics.CodeAnalysis;

namespace MmServe.Media.Ffmpeg;

/// <summary>
/// The located ffmpeg and ffprobe executables, or why they are unusable. Detection never throws for a
/// missing or broken install, so a server can start without ffmpeg, report it, and answer video and
/// compressed-audio requests with <see cref="FfmpegErrors.DecoderUnavailable"/>.
/// </summary>
public sealed class FfmpegTools
{
    private const long MaxVersionOutputBytes = 64 * 1024;

    /// <summary>
    /// Probe-and-decode jobs allowed at once (one per core): decoders wait for a slot before their wall-clock deadline
    /// starts, so many media requests at once queue rather than time each other out on a busy machine.
    /// </summary>
    internal SemaphoreSlim Slots { get; } = new(Math.Max(1, Environment.ProcessorCount));

    private FfmpegTools(string? ffmpegPath, string? ffprobePath, string? ffmpegVersion, string? ffprobeVersion, string? unavailableReason)
    {
        FfmpegPath = ffmpegPath;
        FfprobePath = ffprobePath;
        FfmpegVersion = ffmpegVersion;
        FfprobeVersion = ffprobeVersion;
        UnavailableReason = unavailableReason;
    }

    /// <summary>True when both tools were found and answered <c>-version</c>.</summary>
    [MemberNotNullWhen(true, nameof(FfmpegPath), nameof(FfprobePath), nameof(FfmpegVersion), nameof(FfprobeVersion))]
    [MemberNotNullWhen(false, nameof(UnavailableReason))]
    public bool IsAvailable => UnavailableReason is null;

    public string? FfmpegPath { get; }

    public string? FfprobePath { get; }

    /// <summary>First line of <c>ffmpeg -version</c>, e.g. "ffmpeg version 5.1.6-0+deb12u1 Copyright …".</summary>
    public string? FfmpegVersion { get; }

    /// <summary>First line of <c>ffprobe -version</c>.</summary>
    public string? FfprobeVersion { get; }

    /// <summary>Operator-facing explanation (paths included); not meant for API clients.</summary>
    public string? UnavailableReason { get; }

    /// <summary>Finds both tools (configured paths, else the search path) and runs <c>-version</c> on each.</summary>
    public static async Task<FfmpegTools> DetectAsync(FfmpegToolOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FfmpegToolOptions();
        var (ffmpeg, ffmpegProblem) = ExecutableLocator.Locate(options.FfmpegPath ?? "ffmpeg", options.SearchPath);
        var (ffprobe, ffprobeProblem) = ExecutableLocator.Locate(options.FfprobePath ?? "ffprobe", options.SearchPath);
        if (ffmpeg is null || ffprobe is null)
        {
            return Disabled(string.Join("; ", new[] { ffmpegProblem, ffprobeProblem }.OfType<string>()));
        }

        var ffmpegVersion = await ReadVersionAsync(ffmpeg, options.VersionTimeout, cancellationToken).ConfigureAwait(false);
        var ffprobeVersion = await ReadVersionAsync(ffprobe, options.VersionTimeout, cancellationToken).ConfigureAwait(false);
        if (ffmpegVersion is null || ffprobeVersion is null)
        {
            string failed = ffmpegVersion is null ? ffmpeg : ffprobe;
            return new FfmpegTools(ffmpeg, ffprobe, ffmpegVersion, ffprobeVersion, $"{failed} -version did not succeed");
        }

        return new FfmpegTools(ffmpeg, ffprobe, ffmpegVersion, ffprobeVersion, null);
    }

    /// <summary>Tools deliberately switched off (or known missing); every decode answers "unavailable".</summary>
    public static FfmpegTools Disabled(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new FfmpegTools(null, null, null, null, reason);
    }

    public override string ToString() => IsAvailable
        ? $"{FfmpegVersion} at {FfmpegPath}, ffprobe at {FfprobePath}"
        : $"ffmpeg unavailable: {UnavailableReason}";

    private static async Task<string?> ReadVersionAsync(string executable, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var request = new ProcessRunRequest(executable, ["-hide_banner", "-version"], Path.GetTempPath(), timeout, MaxVersionOutputBytes);
        var output = new BufferingSink();
        var result = await ToolProcessRunner.RunAsync(request, output, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return null;
        }

        string text = System.Text.Encoding.UTF8.GetString(output.Written.Span);
        string firstLine = text.Split('\n', 2)[0].Trim();
        return firstLine.Length > 0 ? firstLine : null;
    }
}
