using MmServe.Media;

namespace MmServe.Serving.Media;

/// <summary>
/// The one rule for mislabelled media, on every path (REST data URLs and input_audio, remote URLs, gRPC bytes): the
/// declared type (data: URL media type, gRPC mime_type, input_audio.format) only routes the item to a modality; the
/// format is sniffed from the bytes. An item whose real format belongs to its modality is accepted whatever it was
/// labelled (a JPEG sent as image/png is decoded as the JPEG it is); one whose bytes are a format of another modality
/// (a WAV sent as an image) is refused with media_type_mismatch naming the declared and the real format. Bytes no
/// signature matches are left to the modality's decoder, which names what it expected.
/// </summary>
public static class DeclaredFormatCheck
{
    public const string MismatchCode = "media_type_mismatch";

    public static MediaError? Check(MediaReference reference, ReadOnlySpan<byte> bytes)
    {
        if (MediaSniffer.Detect(bytes) is not { } actual || actual.Modalities.Contains(reference.Modality))
        {
            return null;
        }

        var declared = Declared(reference) is { } d ? $"declared as {d} but " : "";
        return new MediaError(
            MismatchCode,
            $"The {reference.Modality} was {declared}its bytes are {actual.Name}, which is not {Article(reference.Modality)} {reference.Modality} format. "
            + "The server reads media by its content, not its label: send " + Expected(reference.Modality) + ".");
    }

    private static string? Declared(MediaReference reference) => reference.Kind switch
    {
        MediaSourceKind.DataUrl => $"'{DataUrlMediaType(reference.Source)}'",
        MediaSourceKind.Bytes => $"'{reference.Source}'",
        MediaSourceKind.Base64 when reference.Format is { } format => $"format '{format}'",
        _ => null,
    };

    /// <summary>"data:image/png;base64,..." → "image/png" (the URL itself was parsed already; this is for the message).</summary>
    private static string DataUrlMediaType(string url)
    {
        int start = url.IndexOf(':') + 1;
        int end = url.IndexOfAny([';', ','], start);
        var type = end < 0 ? "" : url[start..end].Trim();
        return type.Length is 0 or > 100 ? "text/plain" : type;
    }

    private static string Article(string modality) => modality == "image" ? "an" : "a";

    private static string Expected(string modality) => modality switch
    {
        "image" => "a PNG, JPEG, WebP or GIF file",
        "audio" => "a WAV or MP3 file (or FLAC, Ogg, WebM, MP4/M4A when the server has ffmpeg)",
        "video" => "an MP4, WebM or QuickTime file",
        _ => "a .npy array (input_tensor)",
    };
}
