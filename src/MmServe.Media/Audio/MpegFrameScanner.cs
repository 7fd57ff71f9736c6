namespace MmServe.Media.Audio;

/// <summary>
/// Recognises MPEG audio by its frame structure rather than by one sync word: after an optional ID3v2 tag, the
/// first frame header must parse and the next header must sit exactly where the first frame's length says.
/// A text file, or random bytes that happen to contain 0xFFE, fails this before any decoder runs.
/// </summary>
internal static class MpegFrameScanner
{
    /// <summary>Junk tolerated before the first frame (encoders sometimes pad after the ID3 tag).</summary>
    private const int MaxLeadingJunk = 4096;

    private static readonly int[][] BitratesKbps =
    [
        [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // MPEG-1 layer I
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384], // MPEG-1 layer II
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], // MPEG-1 layer III
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256], // MPEG-2/2.5 layer I
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160], // MPEG-2/2.5 layers II and III
    ];

    private static readonly int[][] SampleRates =
    [
        [11025, 12000, 8000], // MPEG-2.5
        [],
        [22050, 24000, 16000], // MPEG-2
        [44100, 48000, 32000], // MPEG-1
    ];

    public static bool StartsWithFrames(ReadOnlySpan<byte> bytes, int framesRequired)
    {
        int start = SkipId3v2(bytes);
        int limit = Math.Min(bytes.Length, start + MaxLeadingJunk);
        for (int offset = start; offset + 4 <= limit; offset++)
        {
            if (FramesFrom(bytes, offset, framesRequired))
            {
                return true;
            }
        }

        return false;
    }

    private static bool FramesFrom(ReadOnlySpan<byte> bytes, int offset, int framesRequired)
    {
        for (int frame = 0; frame < framesRequired; frame++)
        {
            if (offset + 4 > bytes.Length || FrameLength(bytes.Slice(offset, 4)) is not int length)
            {
                return false;
            }

            offset += length;
        }

        return true;
    }

    /// <summary>Length in bytes of the frame whose 4-byte header is given, or null when it is not a valid header.</summary>
    internal static int? FrameLength(ReadOnlySpan<byte> h)
    {
        if (h[0] != 0xFF || (h[1] & 0xE0) != 0xE0)
        {
            return null;
        }

        int version = (h[1] >> 3) & 3; // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
        int layer = (h[1] >> 1) & 3; // 1: III, 2: II, 3: I, 0: reserved
        int bitrateIndex = h[2] >> 4;
        int rateIndex = (h[2] >> 2) & 3;
        int padding = (h[2] >> 1) & 1;
        if (version == 1 || layer == 0 || bitrateIndex is 0 or 15 || rateIndex == 3)
        {
            return null; // reserved values, or "free format" which real encoders do not produce
        }

        bool mpeg1 = version == 3;
        int table = (mpeg1, layer) switch
        {
            (true, 3) => 0,
            (true, 2) => 1,
            (true, 1) => 2,
            (false, 3) => 3,
            _ => 4,
        };
        int bitrate = BitratesKbps[table][bitrateIndex] * 1000;
        int sampleRate = SampleRates[version][rateIndex];
        if (layer == 3)
        {
            return ((12 * bitrate / sampleRate) + padding) * 4;
        }

        int coefficient = layer == 1 && !mpeg1 ? 72 : 144;
        return (coefficient * bitrate / sampleRate) + padding;
    }

    private static int SkipId3v2(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 10 || !bytes.StartsWith("ID3"u8))
        {
            return 0;
        }

        // The tag size is a 28-bit "syncsafe" integer (7 bits per byte) excluding the 10-byte header.
        int size = 0;
        for (int i = 6; i < 10; i++)
        {
            if ((bytes[i] & 0x80) != 0)
            {
                return 0;
            }

            size = (size << 7) | bytes[i];
        }

        bool footer = (bytes[5] & 0x10) != 0;
        long end = 10L + size + (footer ? 10 : 0);
        return end > bytes.Length ? bytes.Length : (int)end;
    }
}
