using MmServe.Media.Remote;

namespace MmServe.Serving.Media;

/// <summary>Configuration section "Media": how media work is batched and cached, and remote fetching.</summary>
public sealed class MediaOptions
{
    public const string SectionName = "Media";

    public EncoderBatchingOptions EncoderBatching { get; set; } = new();

    public EncoderCacheOptions EncoderCache { get; set; } = new();

    /// <summary>Paths of ffmpeg / ffprobe; null searches PATH. Without them video and non-WAV/MP3 audio are refused.</summary>
    public string? FfmpegPath { get; set; }

    public string? FfprobePath { get; set; }

    /// <summary>"Media:Remote": http(s) media URLs; off by default (see <see cref="RemoteMediaOptions"/>).</summary>
    public RemoteMediaOptions Remote { get; set; } = new();
}

/// <summary>"Media:EncoderBatching": encoder work of concurrent requests shares one ORT run.</summary>
public sealed class EncoderBatchingOptions
{
    /// <summary>Most items (images, clips, videos) per encoder run.</summary>
    public int MaxBatch { get; set; } = 16;

    /// <summary>
    /// How long the first waiting item may wait for company; 0 (the default) runs whatever is queued at once, so
    /// a lone request pays no latency and items still coalesce whenever every run slot is busy. Worth raising
    /// on GPUs, where a run's fixed cost dominates small encoders.
    /// </summary>
    public double MaxWaitMs { get; set; }
}

/// <summary>"Media:EncoderCache": encoder outputs kept by media hash.</summary>
public sealed class EncoderCacheOptions
{
    /// <summary>Budget in bytes for cached embeddings; 0 disables the cache. 64 MiB holds ~8000 images of mmserve-tiny.</summary>
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;
}
