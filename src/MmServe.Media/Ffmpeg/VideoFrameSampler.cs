using MmServe.Media.Images;

namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Turns client video bytes into the bundle's uniformly sampled RGB24 frames with ffmpeg: probe headers
/// (no decoding) → check limits → probe stream info and count packets (pixel-capped) → check limits →
/// decode all frames to raw RGB24, keeping only the sampled ones. Expected failures are values.
/// </summary>
/// <remarks>Thread-safe; each call uses its own temp directory and processes.</remarks>
public sealed class VideoFrameSampler
{
    private readonly FfmpegTools _tools;
    private readonly MediaProbe _probe;

    public VideoFrameSampler(FfmpegTools tools, VideoLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(tools);
        Limits = limits ?? new VideoLimits();
        Limits.Validate();
        _tools = tools;
        _probe = new MediaProbe(tools, Limits.Timeout);
    }

    public VideoLimits Limits { get; }

    /// <summary>
    /// <paramref name="numFrames"/> frames, in order, chosen by the uniform rule from all decoded frames
    /// (repeated when the video has fewer). Cancellation kills any running tool and throws
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public Task<MediaResult<IReadOnlyList<RgbImage>>> SampleAsync(ReadOnlyMemory<byte> encoded, int numFrames, CancellationToken cancellationToken = default) =>
        SampleAsync(encoded, numFrames, atMost: false, cancellationToken);

    /// <summary>
    /// Every decoded frame when the video has at most <paramref name="maxFrames"/>, else <paramref name="maxFrames"/>
    /// chosen by the uniform rule (Qwen2-VL, whose token count follows the frame count). Same checks as
    /// <see cref="SampleAsync(ReadOnlyMemory{byte}, int, CancellationToken)"/>.
    /// </summary>
    public Task<MediaResult<IReadOnlyList<RgbImage>>> SampleAtMostAsync(ReadOnlyMemory<byte> encoded, int maxFrames, CancellationToken cancellationToken = default) =>
        SampleAsync(encoded, maxFrames, atMost: true, cancellationToken);

    private async Task<MediaResult<IReadOnlyList<RgbImage>>> SampleAsync(ReadOnlyMemory<byte> encoded, int numFrames, bool atMost, CancellationToken cancellationToken)
    {
        // numFrames comes from the model bundle, not the client: a bad value is a bug, not bad input.
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFrames);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numFrames, Limits.MaxFrames);
        if (!_tools.IsAvailable)
        {
            return FfmpegErrors.Unavailable(FfmpegMediaKind.Video);
        }

        if (encoded.IsEmpty)
        {
            return FfmpegErrors.Invalid(FfmpegMediaKind.Video, "the input is empty");
        }

        if (encoded.Length > Limits.MaxBytes)
        {
            return FfmpegErrors.TooManyBytes(FfmpegMediaKind.Video, encoded.Length, Limits.MaxBytes);
        }

        // At most one ffmpeg job per core; the rest wait here, before their deadline starts, so a burst of uploads
        // queues instead of timing itself out.
        await _tools.Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ProbeAndDecodeAsync(encoded, numFrames, atMost, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _tools.Slots.Release();
        }
    }

    private async Task<MediaResult<IReadOnlyList<RgbImage>>> ProbeAndDecodeAsync(ReadOnlyMemory<byte> encoded, int numFrames, bool atMost, CancellationToken cancellationToken)
    {
        var deadline = new OperationDeadline(Limits.Timeout);
        using var input = await TempMediaFile.WriteAsync(encoded, cancellationToken).ConfigureAwait(false);
        var declared = await _probe.IdentifyAsync(input, FfmpegMediaKind.Video, decodeStreamInfo: false, Limits.MaxPixelsPerFrame, deadline, cancellationToken).ConfigureAwait(false);
        if (!declared.IsSuccess)
        {
            return declared.Error;
        }

        if (VideoProbeChecks.Check(declared.Value, Limits, inspected: false) is { } headerProblem)
        {
            return headerProblem;
        }

        var inspected = await _probe.InspectAsync(input, declared.Value.Demuxer, FfmpegMediaKind.Video, Limits.MaxPixelsPerFrame, countPackets: true, deadline, cancellationToken).ConfigureAwait(false);
        if (!inspected.IsSuccess)
        {
            return inspected.Error;
        }

        if (VideoProbeChecks.Check(inspected.Value, Limits, inspected: true) is { } streamProblem)
        {
            return streamProblem;
        }

        return await DecodeAsync(input, inspected.Value, numFrames, atMost, deadline, cancellationToken).ConfigureAwait(false);
    }

    private async Task<MediaResult<IReadOnlyList<RgbImage>>> DecodeAsync(
        TempMediaFile input, MediaProbeResult probe, int numFrames, bool atMost, OperationDeadline deadline, CancellationToken cancellationToken)
    {
        var video = probe.Video!;

        // The rule is defined on the decoded frame count. Packets usually equal frames, but edit lists and
        // undecodable packets can make them differ; then the decode, which is deterministic, is repeated
        // once with the count it actually produced.
        int expected = (int)video.PacketCount!.Value;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            var indices = UniformFrameSampling.Indices(expected, atMost ? Math.Min(expected, numFrames) : numFrames);
            var decoded = await DecodePassAsync(input, probe.Demuxer, video, indices, deadline, cancellationToken).ConfigureAwait(false);
            if (!decoded.IsSuccess)
            {
                return decoded.Error;
            }

            var frames = decoded.Value;
            if (frames.FrameCount == expected)
            {
                return MediaResult<IReadOnlyList<RgbImage>>.Success(
                    indices.Select(i => new RgbImage(video.Width, video.Height, frames.Frame(i)!)).ToArray());
            }

            expected = frames.FrameCount;
        }

        return FfmpegErrors.Invalid(FfmpegMediaKind.Video, "it decodes to a different number of frames each time");
    }

    private async Task<MediaResult<FrameSelectingSink>> DecodePassAsync(
        TempMediaFile input, string demuxer, VideoStreamInfo video, int[] indices, OperationDeadline deadline, CancellationToken cancellationToken)
    {
        int frameBytes = video.Width * video.Height * RgbImage.BytesPerPixel;
        var frames = new FrameSelectingSink(frameBytes, indices, Limits.MaxFrames);
        var request = new ProcessRunRequest(
            _tools.FfmpegPath!,
            FfmpegArguments.DecodeVideo(input, demuxer, video, Limits.MaxPixelsPerFrame, Limits.MaxFrames),
            input.Directory,
            deadline.Remaining,
            MaxStdoutBytes: (long)frameBytes * (Limits.MaxFrames + 1));
        var run = await ToolProcessRunner.RunAsync(request, frames, cancellationToken).ConfigureAwait(false);
        return run.End switch
        {
            ProcessEnd.TimedOut => FfmpegErrors.Timeout(FfmpegMediaKind.Video, deadline.Limit),
            ProcessEnd.FailedToStart => FfmpegErrors.Unavailable(FfmpegMediaKind.Video),
            ProcessEnd.StoppedByReader or ProcessEnd.OutputLimitExceeded => FfmpegErrors.MoreFramesThan(Limits.MaxFrames),
            _ when frames.FrameCount > Limits.MaxFrames => FfmpegErrors.MoreFramesThan(Limits.MaxFrames),
            _ when !run.Succeeded || frames.EndsMidFrame => FfmpegErrors.Invalid(FfmpegMediaKind.Video, "its video stream is corrupt or truncated"),
            _ when frames.FrameCount == 0 => FfmpegErrors.Invalid(FfmpegMediaKind.Video, "it contains no decodable frames"),
            _ => MediaResult<FrameSelectingSink>.Success(frames),
        };
    }
}
