using System.Buffers.Binary;

namespace MmServe.Media.Output;

/// <summary>
/// A generator's waveform (mono floats in [-1, 1]) to 16-bit PCM, bare (OpenAI's "pcm"/"pcm16": little-endian
/// signed samples, no header) or as a RIFF/WAVE file. Samples are scaled by 32767, rounded half to even and
/// clamped, as the reference recipe writes its WAV files.
/// </summary>
public static class GeneratedAudioEncoder
{
    private const int HeaderBytes = 44;

    /// <summary>Little-endian signed 16-bit samples.</summary>
    public static byte[] EncodePcm16(ReadOnlySpan<float> samples)
    {
        var bytes = new byte[checked(samples.Length * 2)];
        WriteSamples(samples, bytes);
        return bytes;
    }

    /// <summary>A canonical 44-byte-header PCM WAV file, mono, 16-bit.</summary>
    public static byte[] EncodeWav(ReadOnlySpan<float> samples, int sampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        int dataBytes = checked(samples.Length * 2);
        var bytes = new byte[checked(HeaderBytes + dataBytes)];
        var header = bytes.AsSpan(0, HeaderBytes);
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], 36 + dataBytes);
        "WAVE"u8.CopyTo(header[8..]);
        "fmt "u8.CopyTo(header[12..]);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], 16); // fmt chunk size
        BinaryPrimitives.WriteInt16LittleEndian(header[20..], 1); // PCM
        BinaryPrimitives.WriteInt16LittleEndian(header[22..], 1); // mono
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(header[28..], sampleRate * 2); // byte rate
        BinaryPrimitives.WriteInt16LittleEndian(header[32..], 2); // block align
        BinaryPrimitives.WriteInt16LittleEndian(header[34..], 16); // bits per sample
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(header[40..], dataBytes);
        WriteSamples(samples, bytes.AsSpan(HeaderBytes));
        return bytes;
    }

    /// <summary>[-1, 1] → -32768..32767, rounding half to even; NaN becomes 0.</summary>
    public static short ToPcm16(float value)
    {
        float scaled = MathF.Round(value * 32767f, MidpointRounding.ToEven);
        return scaled >= 32767f ? short.MaxValue : scaled <= -32768f ? short.MinValue : float.IsNaN(scaled) ? (short)0 : (short)scaled;
    }

    private static void WriteSamples(ReadOnlySpan<float> samples, Span<byte> destination)
    {
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(destination[(2 * i)..], ToPcm16(samples[i]));
        }
    }
}
