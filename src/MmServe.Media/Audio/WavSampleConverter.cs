using System.Buffers.Binary;

namespace MmServe.Media.Audio;

/// <summary>
/// Interleaved little-endian samples to mono float32: each sample is scaled to [-1, 1] and the channels
/// of a frame are averaged (the reference recipe's <c>int16 / 32768</c>, then the mean over channels).
/// </summary>
internal static class WavSampleConverter
{
    /// <summary>Returns null when a float sample is NaN or infinite.</summary>
    public static float[]? ToMono(ReadOnlySpan<byte> data, WavFormat format) => (format.Encoding, format.BitsPerSample) switch
    {
        (WavSampleEncoding.Pcm, 8) => ToMono<UnsignedPcm8>(data, format.Channels),
        (WavSampleEncoding.Pcm, 16) => ToMono<Pcm16>(data, format.Channels),
        (WavSampleEncoding.Pcm, 24) => ToMono<Pcm24>(data, format.Channels),
        (WavSampleEncoding.Pcm, 32) => ToMono<Pcm32>(data, format.Channels),
        (WavSampleEncoding.IeeeFloat, 32) => ToMono<Float32>(data, format.Channels),
        (WavSampleEncoding.IeeeFloat, 64) => ToMono<Float64>(data, format.Channels),
        _ => throw new InvalidOperationException("WavFmtChunk admits only the encodings handled here."),
    };

    // Generic over a struct reader so that the JIT emits one tight loop per encoding.
    private static float[]? ToMono<TReader>(ReadOnlySpan<byte> data, int channels)
        where TReader : struct, ISampleReader
    {
        int frames = data.Length / (channels * TReader.Size);
        var mono = new float[frames];
        int offset = 0;
        for (int frame = 0; frame < frames; frame++)
        {
            float sum = 0;
            for (int channel = 0; channel < channels; channel++, offset += TReader.Size)
            {
                sum += TReader.Read(data.Slice(offset, TReader.Size));
            }

            // NaN from any channel survives the sum (and ±inf + ∓inf is NaN too).
            if (!float.IsFinite(sum))
            {
                return null;
            }

            mono[frame] = channels == 1 ? sum : sum / channels;
        }

        return mono;
    }

    private interface ISampleReader
    {
        static abstract int Size { get; }

        static abstract float Read(ReadOnlySpan<byte> sample);
    }

    /// <summary>8-bit WAV is unsigned with 128 as silence.</summary>
    private readonly struct UnsignedPcm8 : ISampleReader
    {
        public static int Size => 1;

        public static float Read(ReadOnlySpan<byte> sample) => (sample[0] - 128) * (1f / 128);
    }

    private readonly struct Pcm16 : ISampleReader
    {
        public static int Size => 2;

        public static float Read(ReadOnlySpan<byte> sample) => BinaryPrimitives.ReadInt16LittleEndian(sample) * (1f / 32768);
    }

    private readonly struct Pcm24 : ISampleReader
    {
        public static int Size => 3;

        // Sign-extend by placing the 24 bits at the top of an int and shifting back arithmetically.
        public static float Read(ReadOnlySpan<byte> sample) =>
            (((sample[0] << 8) | (sample[1] << 16) | (sample[2] << 24)) >> 8) * (1f / 8388608);
    }

    private readonly struct Pcm32 : ISampleReader
    {
        public static int Size => 4;

        public static float Read(ReadOnlySpan<byte> sample) =>
            (float)(BinaryPrimitives.ReadInt32LittleEndian(sample) * (1.0 / 2147483648));
    }

    private readonly struct Float32 : ISampleReader
    {
        public static int Size => 4;

        public static float Read(ReadOnlySpan<byte> sample) => Clamp(BinaryPrimitives.ReadSingleLittleEndian(sample));
    }

    private readonly struct Float64 : ISampleReader
    {
        public static int Size => 8;

        public static float Read(ReadOnlySpan<byte> sample) => Clamp(BinaryPrimitives.ReadDoubleLittleEndian(sample));
    }

    /// <summary>
    /// Float WAV's full scale is ±1; overs are clipped as a DAC would. This also keeps a hostile 1e38 from
    /// overflowing float sums in the resampler and turning the features into infinities. Non-finite
    /// samples become NaN so that the file is rejected.
    /// </summary>
    private static float Clamp(double value) => double.IsFinite(value) ? (float)Math.Clamp(value, -1.0, 1.0) : float.NaN;
}
