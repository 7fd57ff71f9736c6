using MmServe.Media.Audio;
using MmServe.Media.Images.Structure;

namespace MmServe.Media;

/// <summary>What a file's magic bytes say it is: a name for messages and the modalities that format can carry.</summary>
/// <param name="Name">e.g. "a PNG image", "a WAV file", "an MP4/QuickTime container".</param>
/// <param name="Modalities">"image", "audio", "video": MP4 and WebM carry audio or video; an animated GIF is a video too.</param>
public sealed record SniffedFormat(string Name, IReadOnlyList<string> Modalities);

/// <summary>
/// Names a media file's real format from its first bytes. The server never trusts a declared type (a data: URL's
/// media type, a gRPC mime_type, input_audio.format): decoders read the bytes by what they are, and an item whose
/// bytes are a format of another modality (a WAV sent as an image) is refused naming both.
/// </summary>
public static class MediaSniffer
{
    private static readonly string[] Image = ["image"];
    private static readonly string[] Audio = ["audio"];
    private static readonly string[] AudioOrVideo = ["audio", "video"];
    private static readonly string[] ImageOrVideo = ["image", "video"];

    /// <summary>The format, or null when the bytes match no signature known here (left to the decoder to judge).</summary>
    public static SniffedFormat? Detect(ReadOnlySpan<byte> bytes)
    {
        switch (ImageContainerSniffer.Detect(bytes))
        {
            case ImageContainer.Png: return new("a PNG image", Image);
            case ImageContainer.Jpeg: return new("a JPEG image", Image);
            case ImageContainer.Gif: return new("a GIF image", ImageOrVideo);
            case ImageContainer.Webp: return new("a WebP image", Image);
        }

        if (bytes.StartsWith("BM"u8) && bytes.Length >= 26)
        {
            return new("a BMP image", Image);
        }

        if (bytes.StartsWith("II*\0"u8) || bytes.StartsWith("MM\0*"u8))
        {
            return new("a TIFF image", Image);
        }

        if (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WAVE"u8))
        {
            return new("a WAV file", Audio);
        }

        if (bytes.StartsWith("fLaC"u8))
        {
            return new("a FLAC file", Audio);
        }

        if (bytes.StartsWith("ID3"u8) || Mp3Decoder.LooksLikeMpegAudio(bytes))
        {
            return new("an MP3 file", Audio);
        }

        if (bytes.StartsWith("OggS"u8))
        {
            return new("an Ogg container", Audio);
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            return new("a WebM/Matroska container", AudioOrVideo);
        }

        return bytes.Length >= 12 && bytes[4..8].SequenceEqual("ftyp"u8)
            ? new("an MP4/QuickTime container", AudioOrVideo)
            : null;
    }
}
