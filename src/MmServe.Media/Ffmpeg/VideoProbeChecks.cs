namespace MmServe.Media.Ffmpeg;

/// <summary>The <see cref="VideoLimits"/> checks made on probe results, before any decoding.</summary>
internal static class VideoProbeChecks
{
    /// <summary>
    /// Null when the probe is within limits. <paramref name="inspected"/> is false for the first,
    /// header-only probe (some containers state no frame size), true once stream info has been decoded
    /// and packets counted: a size still unknown then means the decoders' pixel cap refused the stream.
    /// </summary>
    public static MediaError? Check(MediaProbeResult probe, VideoLimits limits, bool inspected)
    {
        if (probe.Video is not { } video || video.StreamIndex < 0)
        {
            return FfmpegErrors.Invalid(FfmpegMediaKind.Video, "it contains no video stream");
        }

        if (!FfmpegWhitelists.IsCodecAllowed(video.Codec, FfmpegMediaKind.Video))
        {
            return FfmpegErrors.UnsupportedCodec(FfmpegMediaKind.Video, video.Codec);
        }

        if (probe.LongestVideoDuration is { } seconds && seconds > limits.MaxSeconds)
        {
            return FfmpegErrors.TooLong(FfmpegMediaKind.Video, seconds, limits.MaxSeconds);
        }

        if ((long)video.Width * video.Height > limits.MaxPixelsPerFrame)
        {
            return FfmpegErrors.TooManyPixels(video.Width, video.Height, limits.MaxPixelsPerFrame);
        }

        if (inspected && (video.Width <= 0 || video.Height <= 0))
        {
            return FfmpegErrors.Invalid(
                FfmpegMediaKind.Video,
                $"its frame size cannot be determined or exceeds the limit of {limits.MaxPixelsPerFrame} pixels per frame");
        }

        if (video.PacketCount is { } frames && frames > limits.MaxFrames)
        {
            return FfmpegErrors.TooManyFrames(frames, limits.MaxFrames);
        }

        return inspected && (video.PacketCount is null or 0)
            ? FfmpegErrors.Invalid(FfmpegMediaKind.Video, "it contains no frames")
            : null;
    }
}
