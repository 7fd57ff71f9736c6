namespace MmServe.Media.Audio;

/// <summary>
/// Names well-known audio containers by their magic bytes, so a client that sent MP3 or FLAC learns the
/// format is unsupported instead of being told the file is corrupt. Nothing beyond the signature is read.
/// </summary>
internal static class AudioFormatSniffer
{
    public static string? Detect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith("ID3"u8) || (bytes.Length >= 2 && bytes[0] == 0xFF && (bytes[1] & 0xE0) == 0xE0))
        {
            return "MPEG audio (MP3/AAC)";
        }

        if (bytes.StartsWith("OggS"u8))
        {
            return "Ogg (Vorbis/Opus)";
        }

        if (bytes.StartsWith("fLaC"u8))
        {
            return "FLAC";
        }

        if (bytes.Length >= 8 && bytes[4..8].SequenceEqual("ftyp"u8))
        {
            return "MP4/M4A";
        }

        if (bytes.StartsWith("RIFX"u8))
        {
            return "big-endian WAV (RIFX)";
        }

        if (bytes.StartsWith("RF64"u8) || bytes.StartsWith("BW64"u8))
        {
            return "RF64/BW64";
        }

        if (bytes.Length >= 12 && bytes.StartsWith("FORM"u8) && (bytes[8..12].SequenceEqual("AIFF"u8) || bytes[8..12].SequenceEqual("AIFC"u8)))
        {
            return "AIFF";
        }

        if (bytes.StartsWith("#!AMR"u8))
        {
            return "AMR";
        }

        if (bytes.StartsWith("caff"u8))
        {
            return "CAF";
        }

        return bytes.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]) ? "WebM/Matroska" : null;
    }
}
