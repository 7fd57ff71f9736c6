using System.Buffers.Binary;

namespace MmServe.Media.Audio;

/// <summary>Parses and cross-checks the fmt chunk (WAVEFORMATEX, optionally WAVEFORMATEXTENSIBLE).</summary>
internal static class WavFmtChunk
{
    private const int WaveFormatPcm = 0x0001;
    private const int WaveFormatIeeeFloat = 0x0003;
    private const int WaveFormatExtensible = 0xFFFE;
    private const int MinimumSize = 16;
    private const int ExtensibleSize = 40;
    private const int ExtensibleExtraSize = 22;

    /// <summary>KSDATAFORMAT_SUBTYPE_* GUIDs are the format tag followed by these 12 bytes.</summary>
    private static ReadOnlySpan<byte> SubFormatGuidTail =>
        [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    public static MediaResult<WavFormat> Parse(ReadOnlySpan<byte> body, AudioLimits limits)
    {
        if (body.Length < MinimumSize)
        {
            return AudioErrors.Invalid($"the fmt chunk is {body.Length} bytes; it must be at least {MinimumSize}");
        }

        int formatTag = BinaryPrimitives.ReadUInt16LittleEndian(body);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
        uint sampleRate = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        uint byteRate = BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(body[12..]);
        int bitsPerSample = BinaryPrimitives.ReadUInt16LittleEndian(body[14..]);

        if (formatTag == WaveFormatExtensible)
        {
            var inner = ParseExtensible(body, bitsPerSample);
            if (!inner.IsSuccess)
            {
                return inner.Error;
            }

            formatTag = inner.Value;
        }

        if (channels == 0)
        {
            return AudioErrors.Invalid("the header declares 0 channels");
        }

        if (sampleRate == 0)
        {
            return AudioErrors.Invalid("the header declares a sample rate of 0 Hz");
        }

        WavSampleEncoding? encoding = (formatTag, bitsPerSample) switch
        {
            (WaveFormatPcm, 8 or 16 or 24 or 32) => WavSampleEncoding.Pcm,
            (WaveFormatIeeeFloat, 32 or 64) => WavSampleEncoding.IeeeFloat,
            _ => null,
        };
        if (encoding is null)
        {
            return AudioErrors.UnsupportedEncoding(formatTag, bitsPerSample);
        }

        if (channels > limits.MaxChannels)
        {
            return AudioErrors.TooManyChannels(channels, limits.MaxChannels);
        }

        if (sampleRate > (uint)limits.MaxSampleRate)
        {
            return AudioErrors.SampleRateTooHigh(sampleRate, limits.MaxSampleRate);
        }

        var format = new WavFormat(encoding.Value, channels, (int)sampleRate, bitsPerSample);

        // Both derived fields are redundant; a mismatch means the header is corrupt or hand-crafted, and
        // trusting either one to step through the data could misalign every sample after the first.
        if (blockAlign != format.BlockAlign)
        {
            return AudioErrors.Invalid(
                $"the block align {blockAlign} does not equal channels x bytes per sample = {format.BlockAlign}");
        }

        if (byteRate != (ulong)format.SampleRate * (ulong)format.BlockAlign)
        {
            return AudioErrors.Invalid(
                $"the byte rate {byteRate} does not equal sample rate x block align = {(ulong)format.SampleRate * (ulong)format.BlockAlign}");
        }

        return MediaResult<WavFormat>.Success(format);
    }

    /// <summary>Returns the format tag carried in the SubFormat GUID of a WAVE_FORMAT_EXTENSIBLE header.</summary>
    private static MediaResult<int> ParseExtensible(ReadOnlySpan<byte> body, int bitsPerSample)
    {
        if (body.Length < ExtensibleSize)
        {
            return AudioErrors.Invalid($"the WAVE_FORMAT_EXTENSIBLE fmt chunk is {body.Length} bytes; it must be at least {ExtensibleSize}");
        }

        int extraSize = BinaryPrimitives.ReadUInt16LittleEndian(body[16..]);
        int validBits = BinaryPrimitives.ReadUInt16LittleEndian(body[18..]);
        if (extraSize < ExtensibleExtraSize)
        {
            return AudioErrors.Invalid($"the WAVE_FORMAT_EXTENSIBLE extension is {extraSize} bytes; it must be at least {ExtensibleExtraSize}");
        }

        // Valid bits sit left-justified in the container, so decoding the whole container is correct
        // whenever they fit; 0 is written by some tools to mean "all of them".
        if (validBits > bitsPerSample)
        {
            return AudioErrors.Invalid($"the valid bits per sample ({validBits}) exceed the container size ({bitsPerSample})");
        }

        var guid = body[24..40];
        uint subFormat = BinaryPrimitives.ReadUInt32LittleEndian(guid);
        if (!guid[4..].SequenceEqual(SubFormatGuidTail) || subFormat > ushort.MaxValue)
        {
            return AudioErrors.UnsupportedContainer("WAVE_FORMAT_EXTENSIBLE with a non-standard SubFormat");
        }

        return MediaResult<int>.Success((int)subFormat);
    }
}
