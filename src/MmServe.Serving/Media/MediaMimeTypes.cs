using MmServe.Serving;

namespace MmServe.Serving.Media;

/// <summary>
/// MIME types a media item may declare (gRPC MediaInput.mime_type): each names a modality and, for audio, the container the REST API
/// calls input_audio.format. Decoders sniff the bytes, so the subtype only routes the item; it is never trusted
/// as the format of what is inside (see <see cref="DeclaredFormatCheck"/> for the one mislabelled-media rule).
/// </summary>
public static class MediaMimeTypes
{
    private static readonly Dictionary<string, (string Modality, string? AudioFormat)> Known = new(StringComparer.Ordinal)
    {
        ["image/png"] = (ServedModel.ImageModality, null),
        ["image/jpeg"] = (ServedModel.ImageModality, null),
        ["image/webp"] = (ServedModel.ImageModality, null),
        ["image/gif"] = (ServedModel.ImageModality, null),
        ["audio/wav"] = (ServedModel.AudioModality, "wav"),
        ["audio/x-wav"] = (ServedModel.AudioModality, "wav"),
        ["audio/wave"] = (ServedModel.AudioModality, "wav"),
        ["audio/vnd.wave"] = (ServedModel.AudioModality, "wav"),
        ["audio/mpeg"] = (ServedModel.AudioModality, "mp3"),
        ["audio/mp3"] = (ServedModel.AudioModality, "mp3"),
        ["audio/flac"] = (ServedModel.AudioModality, "flac"),
        ["audio/x-flac"] = (ServedModel.AudioModality, "flac"),
        ["audio/ogg"] = (ServedModel.AudioModality, "ogg"),
        ["audio/opus"] = (ServedModel.AudioModality, "opus"),
        ["audio/webm"] = (ServedModel.AudioModality, "webm"),
        ["audio/mp4"] = (ServedModel.AudioModality, "m4a"),
        ["audio/m4a"] = (ServedModel.AudioModality, "m4a"),
        ["audio/x-m4a"] = (ServedModel.AudioModality, "m4a"),
        ["audio/aac"] = (ServedModel.AudioModality, "aac"),
        ["video/mp4"] = (ServedModel.VideoModality, null),
        ["video/webm"] = (ServedModel.VideoModality, null),
        ["video/quicktime"] = (ServedModel.VideoModality, null),
    };

    /// <summary>Every known type, sorted.</summary>
    public static IEnumerable<string> All => Known.Keys.Order(StringComparer.Ordinal);

    /// <summary>"Audio/OGG; codecs=opus" → modality "audio", format "ogg"; false for a type not listed.</summary>
    public static bool TryResolve(string mimeType, out string modality, out string? audioFormat)
    {
        var bare = mimeType.Split(';', 2)[0].Trim().ToLowerInvariant();
        if (Known.TryGetValue(bare, out var entry))
        {
            (modality, audioFormat) = entry;
            return true;
        }

        (modality, audioFormat) = ("", null);
        return false;
    }

    public static (string Modality, string? AudioFormat) Resolve(string knownType) => Known[knownType];
}
