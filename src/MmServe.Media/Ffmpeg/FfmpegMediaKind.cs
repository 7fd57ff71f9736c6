namespace MmServe.Media.Ffmpeg;

/// <summary>
/// What the client claims to have sent. It picks the container whitelist and the error vocabulary, so an
/// audio request can never be answered with a video error code and vice versa.
/// </summary>
public enum FfmpegMediaKind
{
    Video,
    Audio,
}
