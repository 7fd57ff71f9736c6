using MmServe.Media.Audio;
using MmServe.Media.Ffmpeg;
using MmServe.Media.Images;

namespace MmServe.Serving;

/// <summary>Configuration section "Limits": per-request bounds enforced at the edge.</summary>
public sealed class LimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Most images one request may carry; counted before any image is decoded.</summary>
    public int MaxImagesPerRequest { get; set; } = 8;

    /// <summary>Most audio clips (input_audio / audio_url parts) one request may carry.</summary>
    public int MaxAudioPerRequest { get; set; } = 4;

    /// <summary>Most videos (video_url parts) one request may carry.</summary>
    public int MaxVideosPerRequest { get; set; } = 2;

    /// <summary>Largest accepted request body (Kestrel's MaxRequestBodySize); larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Bounds for each decoded image (encoded bytes, dimensions, pixels, aspect ratio).</summary>
    public ImageLimits Image { get; set; } = new();

    /// <summary>Bounds for each audio clip (encoded bytes, seconds, channels, sample rate).</summary>
    public AudioLimits Audio { get; set; } = new();

    /// <summary>Bounds for each video (encoded bytes, seconds, frames, pixels per frame, decode time).</summary>
    public VideoLimits Video { get; set; } = new();
}
