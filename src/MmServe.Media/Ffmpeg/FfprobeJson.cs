using System.Globalization;
using System.Text.Json;

namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Reads <c>ffprobe -print_format json -show_format -show_streams</c> output. ffprobe describes a hostile
/// file, so every field is optional and range-checked; anything malformed makes the whole probe fail.
/// </summary>
internal static class FfprobeJson
{
    public static MediaProbeResult? Parse(ReadOnlyMemory<byte> json, FfmpegMediaKind kind)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("format", out var format)
                || format.ValueKind != JsonValueKind.Object
                || GetString(format, "format_name") is not { Length: > 0 } formatName
                || FfmpegWhitelists.ResolveDemuxer(formatName, kind) is not { } demuxer)
            {
                return null;
            }

            VideoStreamInfo? video = null;
            AudioStreamInfo? audio = null;
            if (root.TryGetProperty("streams", out var streams) && streams.ValueKind == JsonValueKind.Array)
            {
                foreach (var stream in streams.EnumerateArray())
                {
                    if (stream.ValueKind != JsonValueKind.Object)
                    {
                        return null;
                    }

                    string? type = GetString(stream, "codec_type");
                    if (video is null && type == "video" && !IsAttachedPicture(stream))
                    {
                        video = ReadVideo(stream);
                    }
                    else if (audio is null && type == "audio")
                    {
                        audio = ReadAudio(stream);
                    }
                }
            }

            return new MediaProbeResult(formatName, demuxer, GetSeconds(format, "duration"), video, audio);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static VideoStreamInfo ReadVideo(JsonElement stream) => new(
        (int)(GetInteger(stream, "index") ?? -1),
        GetString(stream, "codec_name") ?? string.Empty,
        ClampToInt(GetInteger(stream, "width")),
        ClampToInt(GetInteger(stream, "height")),
        GetInteger(stream, "nb_frames"),
        GetInteger(stream, "nb_read_packets"),
        GetSeconds(stream, "duration"));

    private static AudioStreamInfo ReadAudio(JsonElement stream) => new(
        (int)(GetInteger(stream, "index") ?? -1),
        GetString(stream, "codec_name") ?? string.Empty,
        ClampToInt(GetInteger(stream, "sample_rate")),
        ClampToInt(GetInteger(stream, "channels")),
        GetSeconds(stream, "duration"));

    /// <summary>Cover art in an mp4/mkv shows up as a one-frame video stream; it is not the video.</summary>
    private static bool IsAttachedPicture(JsonElement stream) =>
        stream.TryGetProperty("disposition", out var disposition)
        && disposition.ValueKind == JsonValueKind.Object
        && GetInteger(disposition, "attached_pic") == 1;

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>A non-negative integer given as a JSON number or, as ffprobe does for counts and rates, a string.</summary>
    private static long? GetInteger(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        long parsed;
        bool ok = value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetInt64(out parsed),
            JsonValueKind.String => long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out parsed),
            _ => (parsed = 0) != 0,
        };
        return ok && parsed >= 0 ? parsed : null;
    }

    /// <summary>Seconds as ffprobe prints them ("1.000000"); "N/A", negative or non-finite values count as unknown.</summary>
    private static double? GetSeconds(JsonElement element, string name) =>
        GetString(element, name) is { } text
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
        && double.IsFinite(seconds)
        && seconds >= 0
            ? seconds
            : null;

    private static int ClampToInt(long? value) => value is { } v ? (int)Math.Min(v, int.MaxValue) : 0;
}
