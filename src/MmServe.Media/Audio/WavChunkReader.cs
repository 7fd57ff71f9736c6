using System.Buffers.Binary;

namespace MmServe.Media.Audio;

/// <summary>Where the samples are: the validated format and the byte range of whole frames in the data chunk.</summary>
internal readonly record struct WavLayout(WavFormat Format, int DataOffset, int DataLength)
{
    public int FrameCount => DataLength / Format.BlockAlign;
}

/// <summary>
/// Walks the RIFF chunks of a WAVE file up to the data chunk. Sizes come from the client, so every one is
/// checked against the RIFF size and the bytes actually present, and the duration is checked against
/// <see cref="AudioLimits.MaxSeconds"/> from header values alone: nothing is allocated here.
/// </summary>
internal static class WavChunkReader
{
    /// <summary>Real files carry a handful of metadata chunks (LIST, bext, fact, cue, …) before the data.</summary>
    public const int MaxChunksBeforeData = 64;

    private const int RiffHeaderSize = 12;
    private const int ChunkHeaderSize = 8;

    /// <summary>RIFF/data size written by encoders that could not seek back (pipes, live capture).</summary>
    private const uint UnknownSize = 0xFFFFFFFF;

    public static MediaResult<WavLayout> Read(ReadOnlySpan<byte> file, AudioLimits limits)
    {
        if (file.Length < RiffHeaderSize || !file.StartsWith("RIFF"u8))
        {
            return AudioFormatSniffer.Detect(file) is { } known
                ? AudioErrors.UnsupportedContainer(known)
                : AudioErrors.Invalid("it is not a RIFF/WAVE file");
        }

        if (!file[8..12].SequenceEqual("WAVE"u8))
        {
            return AudioErrors.Invalid("the RIFF form type is not WAVE");
        }

        uint riffSize = BinaryPrimitives.ReadUInt32LittleEndian(file[4..]);

        // 0xFFFFFFFF and 0 are the streaming conventions: the writer did not know the length. Only then
        // may an oversized data chunk be read as "whatever bytes arrived".
        bool streaming = riffSize is UnknownSize or 0;
        if (!streaming && riffSize < 4)
        {
            return AudioErrors.Invalid($"the RIFF size {riffSize} cannot hold the WAVE form type");
        }

        // Bytes after a (non-streaming) RIFF end are ignored: some tools append tags there.
        long riffEnd = streaming ? file.Length : ChunkHeaderSize + (long)riffSize;
        long position = RiffHeaderSize;
        WavFormat? format = null;
        for (int chunks = 0; ; chunks++)
        {
            long remaining = riffEnd - position;

            // The walk returns at the data chunk, so reaching the RIFF end (or a tail too short for a
            // chunk header) means there is none.
            if (remaining < ChunkHeaderSize)
            {
                return AudioErrors.Invalid("it has no data chunk");
            }

            if (position + ChunkHeaderSize > file.Length)
            {
                return AudioErrors.Truncated();
            }

            if (chunks >= MaxChunksBeforeData)
            {
                return AudioErrors.Invalid($"more than {MaxChunksBeforeData} chunks precede the audio data");
            }

            var id = file.Slice((int)position, 4);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(file[((int)position + 4)..]);
            long bodyStart = position + ChunkHeaderSize;
            if (id.SequenceEqual("data"u8))
            {
                return format is { } known
                    ? ReadDataChunk(file, known, bodyStart, size, riffEnd, streaming, limits)
                    : AudioErrors.Invalid("the data chunk precedes the fmt chunk");
            }

            if (CheckBounds(file, bodyStart, size, riffEnd) is { } outOfBounds)
            {
                return outOfBounds;
            }

            if (id.SequenceEqual("fmt "u8))
            {
                if (format is not null)
                {
                    return AudioErrors.Invalid("it has more than one fmt chunk");
                }

                var parsed = WavFmtChunk.Parse(file.Slice((int)bodyStart, (int)size), limits);
                if (!parsed.IsSuccess)
                {
                    return parsed.Error;
                }

                format = parsed.Value;
            }

            // Chunks are word-aligned: an odd-sized body is followed by one pad byte.
            position = bodyStart + size + (size & 1);
        }
    }

    private static MediaResult<WavLayout> ReadDataChunk(
        ReadOnlySpan<byte> file, WavFormat format, long bodyStart, uint size, long riffEnd, bool streaming, AudioLimits limits)
    {
        long available = Math.Min(riffEnd, file.Length) - bodyStart;
        long length;
        if (streaming && (size is UnknownSize or 0 || size > available))
        {
            // A stream cut off mid-frame keeps its whole frames.
            length = available - (available % format.BlockAlign);
        }
        else if (size == UnknownSize)
        {
            return AudioErrors.Invalid("the data size is the 0xFFFFFFFF 'unknown length' marker but the RIFF size is not");
        }
        else
        {
            length = size;
        }

        // Checked before the bounds so that a header claiming hours is reported as such, and before any
        // sample buffer exists.
        double seconds = (double)(length / format.BlockAlign) / format.SampleRate;
        if (seconds > limits.MaxSeconds)
        {
            return AudioErrors.TooLong(seconds, limits.MaxSeconds);
        }

        if (length % format.BlockAlign != 0)
        {
            return AudioErrors.Invalid($"the data size {length} is not a multiple of the block align {format.BlockAlign}");
        }

        if (CheckBounds(file, bodyStart, length, riffEnd) is { } outOfBounds)
        {
            return outOfBounds;
        }

        if (length == 0)
        {
            return AudioErrors.Invalid("the data chunk holds no samples");
        }

        return MediaResult<WavLayout>.Success(new WavLayout(format, (int)bodyStart, (int)length));
    }

    private static MediaError? CheckBounds(ReadOnlySpan<byte> file, long bodyStart, long size, long riffEnd)
    {
        long end = bodyStart + size;
        if (end > file.Length)
        {
            return AudioErrors.Truncated();
        }

        return end > riffEnd ? AudioErrors.Invalid("a chunk extends past the RIFF size") : null;
    }
}
