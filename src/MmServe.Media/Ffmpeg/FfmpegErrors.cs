using System.Globalization;
using System.Text.RegularExpressions;

namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Error codes and client-safe <see cref="MediaError"/>s for media decoded through ffmpeg. Messages are
/// written here from numbers and whitelisted names only; ffmpeg's own stderr never reaches a client
/// because it can quote paths and bytes of the input.
/// </summary>
public static partial class FfmpegErrors
{
    /// <summary>The bytes are not a decodable video (corrupt, truncated, no video stream or not a supported container).</summary>
    public const string InvalidVideo = "invalid_video";

    /// <summary>Encoded size, duration, frame size or frame count exceeds <see cref="VideoLimits"/>.</summary>
    public const string VideoTooLarge = "video_too_large";

    /// <summary>A recognised container whose video codec this server does not decode.</summary>
    public const string UnsupportedVideoFormat = "unsupported_video_format";

    /// <summary>Decoding took longer than the configured wall-clock limit; the decoder was killed.</summary>
    public const string MediaTimeout = "media_timeout";

    /// <summary>ffmpeg or ffprobe is not installed or does not run; the server cannot decode this media type.</summary>
    public const string DecoderUnavailable = "media_decoder_unavailable";

    private const string SupportedVideo = "MP4/MOV, Matroska/WebM or GIF containing H.264, HEVC, VP8, VP9, AV1, MPEG-4 Part 2 or GIF video";

    private const string SupportedAudio = "FLAC, Ogg (Vorbis/Opus), WebM (Opus), M4A/MP4 (AAC/ALAC), MP3, WAV or ADTS AAC";

    internal static MediaError Invalid(FfmpegMediaKind kind, string reason) => kind == FfmpegMediaKind.Video
        ? new(InvalidVideo, $"The video could not be decoded: {reason}. Supported: {SupportedVideo}.")
        : new(MediaErrorCodes.InvalidAudio, $"The audio could not be decoded: {reason}. Supported: {SupportedAudio}.");

    /// <summary>ffprobe refused or failed: the container is not on the whitelist, or not media at all.</summary>
    internal static MediaError Unrecognised(FfmpegMediaKind kind) =>
        Invalid(kind, "it is corrupt, truncated, empty or not in a supported container");

    internal static MediaError UnsupportedCodec(FfmpegMediaKind kind, string codec) => kind == FfmpegMediaKind.Video
        ? new(UnsupportedVideoFormat, $"The video codec {SafeName(codec)} is not supported. Supported: {SupportedVideo}.")
        : new(MediaErrorCodes.UnsupportedAudioFormat, $"The audio codec {SafeName(codec)} is not supported. Supported: {SupportedAudio}.");

    internal static MediaError TooManyBytes(FfmpegMediaKind kind, long actualBytes, long maxBytes) =>
        TooLarge(kind, $"The encoded {Noun(kind)} is {actualBytes} bytes; the limit is {maxBytes} bytes.");

    internal static MediaError TooLong(FfmpegMediaKind kind, double seconds, double maxSeconds) =>
        TooLarge(kind, Invariant($"The {Noun(kind)} lasts {seconds:0.###} s; the limit is {maxSeconds:0.###} s."));

    /// <summary>The decoded output outran the limit although the header claimed otherwise.</summary>
    internal static MediaError LongerThanDeclared(FfmpegMediaKind kind, double maxSeconds) =>
        TooLarge(kind, Invariant($"The {Noun(kind)} decodes to more than the limit of {maxSeconds:0.###} s (its header understates its length)."));

    internal static MediaError TooManyPixels(int width, int height, long maxPixels) =>
        TooLarge(FfmpegMediaKind.Video, $"The video frames are {width}x{height} pixels; the limit is {maxPixels} pixels per frame.");

    internal static MediaError TooManyFrames(long frames, int maxFrames) =>
        TooLarge(FfmpegMediaKind.Video, $"The video has {frames} frames; the limit is {maxFrames} frames.");

    internal static MediaError MoreFramesThan(int maxFrames) =>
        TooLarge(FfmpegMediaKind.Video, $"The video decodes to more than the limit of {maxFrames} frames.");

    internal static MediaError SampleRateTooHigh(int sampleRate, int maxSampleRate) => new(
        MediaErrorCodes.UnsupportedAudioFormat,
        $"The audio sample rate is {sampleRate} Hz; the limit is {maxSampleRate} Hz.");

    internal static MediaError TooManyChannels(int channels, int maxChannels) => new(
        MediaErrorCodes.UnsupportedAudioFormat,
        $"The audio has {channels} channels; the limit is {maxChannels} channels.");

    internal static MediaError Timeout(FfmpegMediaKind kind, TimeSpan limit) => new(
        MediaTimeout,
        Invariant($"Decoding the {Noun(kind)} took longer than the limit of {limit.TotalSeconds:0.###} s."));

    internal static MediaError Unavailable(FfmpegMediaKind kind) => new(
        DecoderUnavailable,
        kind == FfmpegMediaKind.Video
            ? "This server cannot decode video: its decoder (ffmpeg) is not available."
            : "This server cannot decode compressed audio: its decoder (ffmpeg) is not available. Send WAV instead.");

    private static MediaError TooLarge(FfmpegMediaKind kind, string message) =>
        new(kind == FfmpegMediaKind.Video ? VideoTooLarge : MediaErrorCodes.AudioTooLarge, message);

    private static string Noun(FfmpegMediaKind kind) => kind == FfmpegMediaKind.Video ? "video" : "audio";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Codec names come from ffprobe's output for a hostile file; echo only plain identifiers.</summary>
    private static string SafeName(string name) => PlainIdentifier().IsMatch(name) ? name : "(unnamed)";

    [GeneratedRegex("^[a-z0-9_]{1,32}$")]
    private static partial Regex PlainIdentifier();
}
