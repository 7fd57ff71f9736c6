namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Describes client media with ffprobe under the same whitelists as decoding. Used by the video sampler
/// and audio decoder between their limit checks; usable on its own to inspect a file.
/// </summary>
public sealed class MediaProbe
{
    /// <summary>Bounds ffprobe's JSON: a file with thousands of streams is refused rather than parsed.</summary>
    private const long MaxReportBytes = 1024 * 1024;

    private readonly FfmpegTools _tools;

    public MediaProbe(FfmpegTools tools, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(tools);
        Timeout = timeout ?? TimeSpan.FromSeconds(10);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero);
        _tools = tools;
    }

    public TimeSpan Timeout { get; }

    /// <summary>
    /// Identifies the container among those allowed for <paramref name="kind"/>, then inspects it with that
    /// demuxer forced, decoding stream parameters under a pixel cap of <paramref name="maxPixelsPerFrame"/>
    /// and, for video, counting packets.
    /// </summary>
    public async Task<MediaResult<MediaProbeResult>> ProbeAsync(
        ReadOnlyMemory<byte> encoded,
        FfmpegMediaKind kind,
        long maxPixelsPerFrame = 4096L * 4096,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixelsPerFrame);
        if (!_tools.IsAvailable)
        {
            return FfmpegErrors.Unavailable(kind);
        }

        if (encoded.IsEmpty)
        {
            return FfmpegErrors.Invalid(kind, "the input is empty");
        }

        var deadline = new OperationDeadline(Timeout);
        using var input = await TempMediaFile.WriteAsync(encoded, cancellationToken).ConfigureAwait(false);
        var identified = await IdentifyAsync(input, kind, decodeStreamInfo: false, maxPixelsPerFrame, deadline, cancellationToken).ConfigureAwait(false);
        return identified.IsSuccess
            ? await InspectAsync(input, identified.Value.Demuxer, kind, maxPixelsPerFrame, kind == FfmpegMediaKind.Video, deadline, cancellationToken).ConfigureAwait(false)
            : identified;
    }

    internal Task<MediaResult<MediaProbeResult>> IdentifyAsync(
        TempMediaFile input, FfmpegMediaKind kind, bool decodeStreamInfo, long maxPixels, OperationDeadline deadline, CancellationToken cancellationToken) =>
        RunAsync(FfmpegArguments.Identify(input, kind, decodeStreamInfo, maxPixels), input, kind, deadline, cancellationToken);

    internal Task<MediaResult<MediaProbeResult>> InspectAsync(
        TempMediaFile input, string demuxer, FfmpegMediaKind kind, long maxPixels, bool countPackets, OperationDeadline deadline, CancellationToken cancellationToken) =>
        RunAsync(FfmpegArguments.Inspect(input, demuxer, maxPixels, countPackets), input, kind, deadline, cancellationToken);

    private async Task<MediaResult<MediaProbeResult>> RunAsync(
        IReadOnlyList<string> arguments, TempMediaFile input, FfmpegMediaKind kind, OperationDeadline deadline, CancellationToken cancellationToken)
    {
        if (!_tools.IsAvailable)
        {
            return FfmpegErrors.Unavailable(kind);
        }

        var request = new ProcessRunRequest(_tools.FfprobePath, arguments, input.Directory, deadline.Remaining, MaxReportBytes);
        var report = new BufferingSink();
        var run = await ToolProcessRunner.RunAsync(request, report, cancellationToken).ConfigureAwait(false);
        return run.End switch
        {
            ProcessEnd.TimedOut => FfmpegErrors.Timeout(kind, deadline.Limit),
            ProcessEnd.FailedToStart => FfmpegErrors.Unavailable(kind),

            // A refused demuxer, an unreadable file and an oversized report all mean the same to a client.
            _ when !run.Succeeded => FfmpegErrors.Unrecognised(kind),
            _ => FfprobeJson.Parse(report.Written, kind) is { } probe
                ? MediaResult<MediaProbeResult>.Success(probe)
                : FfmpegErrors.Unrecognised(kind),
        };
    }
}
