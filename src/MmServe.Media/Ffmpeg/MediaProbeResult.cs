namespace MmServe.Media.Ffmpeg;

/// <summary>What ffprobe reported about a file, reduced to the fields the limits are checked against.</summary>
/// <param name="FormatName">ffprobe's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2".</param>
/// <param name="Demuxer">The whitelisted demuxer every later run is forced to with <c>-f</c>, e.g. "mov".</param>
/// <param name="DurationSeconds">Container duration, when known.</param>
/// <param name="Video">First video stream that is not cover art, if any.</param>
/// <param name="Audio">First audio stream, if any.</param>
public sealed record MediaProbeResult(
    string FormatName,
    string Demuxer,
    double? DurationSeconds,
    VideoStreamInfo? Video,
    AudioStreamInfo? Audio)
{
    /// <summary>The longest of the container's and the video stream's durations: the one a limit must bound.</summary>
    public double? LongestVideoDuration => Longest(DurationSeconds, Video?.DurationSeconds);

    /// <summary>The longest of the container's and the audio stream's durations.</summary>
    public double? LongestAudioDuration => Longest(DurationSeconds, Audio?.DurationSeconds);

    private static double? Longest(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);
}

/// <param name="StreamIndex">Absolute stream index, used to map exactly this stream when decoding.</param>
/// <param name="Codec">ffprobe's codec name, e.g. "h264".</param>
/// <param name="Width">Frame width in pixels; 0 when unknown (or refused by the decoder's pixel cap).</param>
/// <param name="Height">Frame height in pixels; 0 when unknown.</param>
/// <param name="DeclaredFrames">Frame count the container declares (<c>nb_frames</c>); may be absent or wrong.</param>
/// <param name="PacketCount">Packets actually read (<c>-count_packets</c>); null unless counted.</param>
/// <param name="DurationSeconds">Stream duration, when known.</param>
public sealed record VideoStreamInfo(
    int StreamIndex,
    string Codec,
    int Width,
    int Height,
    long? DeclaredFrames,
    long? PacketCount,
    double? DurationSeconds);

/// <param name="StreamIndex">Absolute stream index, used to map exactly this stream when decoding.</param>
/// <param name="Codec">ffprobe's codec name, e.g. "opus".</param>
/// <param name="SampleRate">Decoded sample rate in Hz; 0 when unknown.</param>
/// <param name="Channels">Channel count; 0 when unknown.</param>
/// <param name="DurationSeconds">Stream duration, when known.</param>
public sealed record AudioStreamInfo(
    int StreamIndex,
    string Codec,
    int SampleRate,
    int Channels,
    double? DurationSeconds);
