namespace MmServe.Media.Ffmpeg;

/// <summary>
/// The only demuxers and decoders client bytes may reach. ffmpeg can open far more than media files:
/// playlists (hls), scripts (concat/ffconcat), globbed image sequences (image2), filter graphs (lavfi),
/// and many of those read further local files or URLs. A short allow-list keeps that surface closed.
/// </summary>
internal static class FfmpegWhitelists
{
    /// <summary>Demuxer names as ffmpeg spells them; "mov" covers mp4/m4a/3gp and "matroska" covers webm.</summary>
    private static readonly string[] VideoDemuxers = ["mov", "matroska", "gif"];

    private static readonly string[] AudioDemuxers = ["mov", "matroska", "ogg", "flac", "mp3", "wav", "aac"];

    private static readonly HashSet<string> VideoCodecs = new(StringComparer.Ordinal)
    {
        "h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "gif",
    };

    private static readonly HashSet<string> AudioCodecs = new(StringComparer.Ordinal)
    {
        "aac", "alac", "mp3", "opus", "vorbis", "flac",
        "pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le",
    };

    public static IReadOnlyList<string> Demuxers(FfmpegMediaKind kind) =>
        kind == FfmpegMediaKind.Video ? VideoDemuxers : AudioDemuxers;

    /// <summary>The value for ffprobe's <c>-format_whitelist</c>: probing fails for any other demuxer.</summary>
    public static string DemuxerList(FfmpegMediaKind kind) => string.Join(',', Demuxers(kind));

    /// <summary>
    /// The whitelisted demuxer to force with <c>-f</c> for a format ffprobe reported, e.g.
    /// "mov,mp4,m4a,3gp,3g2,mj2" → "mov"; null when none of its names is allowed.
    /// </summary>
    public static string? ResolveDemuxer(string formatName, FfmpegMediaKind kind)
    {
        foreach (var name in formatName.Split(','))
        {
            if (Demuxers(kind).Contains(name, StringComparer.Ordinal))
            {
                return name;
            }
        }

        return null;
    }

    public static bool IsCodecAllowed(string codec, FfmpegMediaKind kind) =>
        (kind == FfmpegMediaKind.Video ? VideoCodecs : AudioCodecs).Contains(codec);
}
