using System.Globalization;

namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Builds every argument list the component passes to ffmpeg/ffprobe. The only input is always the
/// component's own temp file; the demuxer is either limited by <c>-format_whitelist</c> (first probe) or
/// forced with <c>-f</c> to a whitelisted name; only the <c>file</c> protocol may be opened for input.
/// </summary>
internal static class FfmpegArguments
{
    /// <summary>
    /// First look at unknown bytes. Without stream-info decoding nothing is decoded at all, so header values
    /// (duration, declared frame size) can be checked before a decoder allocates anything.
    /// </summary>
    public static IReadOnlyList<string> Identify(TempMediaFile input, FfmpegMediaKind kind, bool decodeStreamInfo, long maxPixels)
    {
        var arguments = new List<string> { "-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file" };
        arguments.AddRange(["-format_whitelist", FfmpegWhitelists.DemuxerList(kind)]);
        arguments.AddRange(decodeStreamInfo ? ["-max_pixels", DecoderPixelAllowance(maxPixels)] : ["-nofind_stream_info"]);
        arguments.AddRange(JsonReport);
        arguments.Add(input.Url);
        return arguments;
    }

    /// <summary>Second look, with the demuxer forced: decodes stream info under a pixel cap and counts packets.</summary>
    public static IReadOnlyList<string> Inspect(TempMediaFile input, string demuxer, long maxPixels, bool countPackets)
    {
        var arguments = new List<string> { "-hide_banner", "-loglevel", "error" };
        arguments.AddRange(ForcedInput(demuxer));
        arguments.AddRange(["-max_pixels", DecoderPixelAllowance(maxPixels)]);
        if (countPackets)
        {
            arguments.Add("-count_packets");
        }

        arguments.AddRange(JsonReport);
        arguments.Add(input.Url);
        return arguments;
    }

    /// <summary>
    /// Every frame of one video stream as packed RGB24 on stdout, at exactly the probed size: the scale
    /// filter pins the size even if the stream changes resolution midway, so stdout stays a sequence of
    /// equal-sized frames. Frames are passed through one per decoded frame (no rate conversion), stored
    /// orientation (no autorotate), and ffmpeg stops by itself one frame past the limit.
    /// </summary>
    public static IReadOnlyList<string> DecodeVideo(TempMediaFile input, string demuxer, VideoStreamInfo stream, long maxPixels, int maxFrames)
    {
        var arguments = new List<string> { "-nostdin", "-hide_banner", "-loglevel", "error" };
        arguments.AddRange(OneThread);
        arguments.AddRange(ForcedInput(demuxer));
        arguments.AddRange(["-threads", "1", "-max_pixels", DecoderPixelAllowance(maxPixels), "-noautorotate", "-i", input.Url]);
        arguments.AddRange(["-map", Invariant($"0:{stream.StreamIndex}"), "-an", "-sn", "-dn"]);
        arguments.AddRange(["-fps_mode", "passthrough", "-frames:v", Invariant($"{maxFrames + 1}")]);
        arguments.AddRange(["-vf", Invariant($"scale={stream.Width}:{stream.Height},format=rgb24"), "-pix_fmt", "rgb24"]);
        arguments.AddRange(["-f", "rawvideo"]);
        arguments.AddRange(PipeOutput);
        return arguments;
    }

    /// <summary>
    /// One audio stream as mono float32 little-endian on stdout at the given rate. The down-mix is a plain
    /// average of the channels (the '&lt;' in pan normalises the gains to sum to 1), matching the WAV
    /// decoder; ffmpeg's own -ac 1 matrix would scale stereo by 1/√2 per channel instead.
    /// </summary>
    /// <param name="resampleTo">
    /// Resample in ffmpeg with soxr at precision 28 (what librosa, HF's pipelines and the Whisper oracle use) to this
    /// rate; null keeps the stream's rate.
    /// </param>
    public static IReadOnlyList<string> DecodeAudio(TempMediaFile input, string demuxer, AudioStreamInfo stream, int? resampleTo = null)
    {
        var arguments = new List<string> { "-nostdin", "-hide_banner", "-loglevel", "error" };
        arguments.AddRange(OneThread);
        arguments.AddRange(ForcedInput(demuxer));
        arguments.AddRange(["-threads", "1", "-i", input.Url]);
        arguments.AddRange(["-map", Invariant($"0:{stream.StreamIndex}"), "-vn", "-sn", "-dn"]);
        string filter = resampleTo is { } rate
            ? AverageToMono(stream.Channels) + Invariant($",aresample={rate}:resampler=soxr:precision=28")
            : AverageToMono(stream.Channels);
        arguments.AddRange(["-af", filter, "-ac", "1", "-ar", Invariant($"{resampleTo ?? stream.SampleRate}")]);
        arguments.AddRange(["-c:a", "pcm_f32le", "-f", "f32le"]);
        arguments.AddRange(PipeOutput);
        return arguments;
    }

    /// <summary>
    /// The value for the decoders' <c>-max_pixels</c>: a backstop against streams whose real frame size is
    /// larger than their header said. Decoders check their padded allocation (a 16x16 H.264 frame allocates
    /// 64x16), so the cap leaves headroom above the limit the probe already enforced on the declared size.
    /// </summary>
    public static string DecoderPixelAllowance(long maxPixels) =>
        Invariant($"{Math.Min(int.MaxValue, (maxPixels * 2) + (1 << 20))}");

    internal static string AverageToMono(int channels) =>
        "pan=mono|c0<" + string.Join('+', Enumerable.Range(0, Math.Max(1, channels)).Select(c => Invariant($"c{c}")));

    /// <summary>
    /// One filter thread (global options), and "-threads 1" before "-i" for the decoder: by default ffmpeg starts a
    /// thread per core for each, so one request's media would compete with the model for every core of the
    /// server. Concurrent requests still use several cores, one ffmpeg each.
    /// </summary>
    private static IEnumerable<string> OneThread => ["-filter_threads", "1", "-filter_complex_threads", "1"];

    private static IEnumerable<string> JsonReport => ["-print_format", "json", "-show_format", "-show_streams"];

    /// <summary>Output goes only to our stdout pipe; no other output protocol can be opened.</summary>
    private static IEnumerable<string> PipeOutput => ["-protocol_whitelist", "pipe", "pipe:1"];

    private static IEnumerable<string> ForcedInput(string demuxer)
    {
        if (!FfmpegWhitelists.Demuxers(FfmpegMediaKind.Audio).Contains(demuxer)
            && !FfmpegWhitelists.Demuxers(FfmpegMediaKind.Video).Contains(demuxer))
        {
            throw new ArgumentException($"Demuxer {demuxer} is not whitelisted.", nameof(demuxer));
        }

        var arguments = new List<string> { "-protocol_whitelist", "file", "-f", demuxer };
        if (demuxer == "mov")
        {
            // These are already ffmpeg's defaults; spelled out because either would let an mp4's data
            // references open other local files.
            arguments.AddRange(["-enable_drefs", "0", "-use_absolute_path", "0"]);
        }

        return arguments;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
