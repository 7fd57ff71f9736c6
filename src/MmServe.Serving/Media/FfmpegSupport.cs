using MmServe.Media.Audio;
using MmServe.Media.Ffmpeg;

namespace MmServe.Serving.Media;

/// <summary>
/// ffmpeg / ffprobe as found at start-up, and the media paths that need them: video frame sampling and the
/// compressed audio containers decoded outside the process. Without ffmpeg the server still runs: it says so
/// in the log and in /v1/models, and refuses video parts (and flac/ogg/webm/m4a audio) with a clear 400.
/// </summary>
public sealed partial class FfmpegSupport
{
    private FfmpegSupport(FfmpegTools tools, VideoLimits videoLimits, AudioLimits audioLimits)
    {
        Tools = tools;
        if (tools.IsAvailable)
        {
            VideoSampler = new VideoFrameSampler(tools, videoLimits);
            var audio = new FfmpegAudioLimits
            {
                MaxBytes = audioLimits.MaxBytes,
                MaxSampleRate = audioLimits.MaxSampleRate,
                MaxChannels = audioLimits.MaxChannels,
            };
            Audio = new FfmpegAudioDecoder(tools, audio);
            AudioDecoder = new FfmpegAudioDecoderAdapter(Audio);
        }
    }

    public FfmpegTools Tools { get; }

    /// <summary>Null when ffmpeg is unavailable.</summary>
    public VideoFrameSampler? VideoSampler { get; }

    /// <summary>Null when ffmpeg is unavailable.</summary>
    public IExternalAudioDecoder? AudioDecoder { get; }

    /// <summary>The same decoder, with resampling by ffmpeg (soxr); null when ffmpeg is unavailable.</summary>
    public FfmpegAudioDecoder? Audio { get; }

    /// <summary>Why ffmpeg is unusable (operator-facing), or null.</summary>
    public string? Problem => Tools.UnavailableReason;

    public static FfmpegSupport Detect(MediaOptions options, LimitsOptions limits, ILogger logger)
    {
        var tools = FfmpegTools.DetectAsync(new FfmpegToolOptions { FfmpegPath = options.FfmpegPath, FfprobePath = options.FfprobePath })
            .GetAwaiter().GetResult();
        if (tools.IsAvailable)
        {
            Log.Found(logger, tools.FfmpegVersion, tools.FfmpegPath);
        }
        else
        {
            Log.Missing(logger, tools.UnavailableReason);
        }

        return new FfmpegSupport(tools, limits.Video, limits.Audio);
    }

    private sealed class FfmpegAudioDecoderAdapter(FfmpegAudioDecoder decoder) : IExternalAudioDecoder
    {
        public Task<MmServe.Media.MediaResult<DecodedAudio>> DecodeAsync(ReadOnlyMemory<byte> encoded, double maxSeconds, CancellationToken ct) =>
            decoder.DecodeAsync(encoded, maxSeconds, ct);
    }

    private static partial class Log
    {
        [LoggerMessage(50, LogLevel.Information, "Using {Version} at {Path} for video and compressed audio input.")]
        public static partial void Found(ILogger logger, string version, string path);

        [LoggerMessage(51, LogLevel.Warning, "ffmpeg is not available ({Reason}): video input and flac/ogg/webm/m4a audio are refused; WAV and MP3 audio still work.")]
        public static partial void Missing(ILogger logger, string reason);
    }
}
