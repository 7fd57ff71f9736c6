using System.Buffers.Binary;
using System.Text;

namespace MmServe.Media.Tests.Audio;

/// <summary>Writes WAV files field by field, so that tests can make any header field lie.</summary>
internal sealed record WavBuilder
{
    public int FormatTag { get; init; } = 1;

    public int Channels { get; init; } = 1;

    public uint SampleRate { get; init; } = 16000;

    public int BitsPerSample { get; init; } = 16;

    /// <summary>Defaults to channels × bytes per sample.</summary>
    public int? BlockAlign { get; init; }

    /// <summary>Defaults to sample rate × block align.</summary>
    public uint? ByteRate { get; init; }

    /// <summary>Defaults to the true size of everything after the RIFF header.</summary>
    public uint? RiffSize { get; init; }

    /// <summary>Defaults to <see cref="Data"/>'s length.</summary>
    public uint? DataSize { get; init; }

    public byte[] Data { get; init; } = [];

    /// <summary>Written between fmt and data, each padded to an even size.</summary>
    public IReadOnlyList<(string Id, byte[] Body)> ExtraChunks { get; init; } = [];

    /// <summary>WAVE_FORMAT_EXTENSIBLE carrying <see cref="FormatTag"/> in its SubFormat GUID.</summary>
    public bool Extensible { get; init; }

    public byte[] Build()
    {
        int blockAlign = BlockAlign ?? (Channels * BitsPerSample / 8);
        var body = new MemoryStream();
        body.Write("WAVE"u8);
        WriteChunk(body, "fmt ", FmtBody(blockAlign));
        foreach (var (id, chunk) in ExtraChunks)
        {
            WriteChunk(body, id, chunk);
        }

        body.Write("data"u8);
        WriteUInt32(body, DataSize ?? (uint)Data.Length);
        body.Write(Data);
        if (Data.Length % 2 == 1)
        {
            body.WriteByte(0);
        }

        var file = new MemoryStream();
        file.Write("RIFF"u8);
        WriteUInt32(file, RiffSize ?? (uint)body.Length);
        body.WriteTo(file);
        return file.ToArray();
    }

    public static byte[] Pcm16(ReadOnlySpan<short> samples)
    {
        var bytes = new byte[samples.Length * 2];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), samples[i]);
        }

        return bytes;
    }

    public static byte[] Pcm24(ReadOnlySpan<int> samples)
    {
        var bytes = new byte[samples.Length * 3];
        for (int i = 0; i < samples.Length; i++)
        {
            bytes[i * 3] = (byte)samples[i];
            bytes[(i * 3) + 1] = (byte)(samples[i] >> 8);
            bytes[(i * 3) + 2] = (byte)(samples[i] >> 16);
        }

        return bytes;
    }

    public static byte[] Pcm32(ReadOnlySpan<int> samples)
    {
        var bytes = new byte[samples.Length * 4];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), samples[i]);
        }

        return bytes;
    }

    public static byte[] Float32(ReadOnlySpan<float> samples)
    {
        var bytes = new byte[samples.Length * 4];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), samples[i]);
        }

        return bytes;
    }

    public static byte[] Float64(ReadOnlySpan<double> samples)
    {
        var bytes = new byte[samples.Length * 8];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), samples[i]);
        }

        return bytes;
    }

    private byte[] FmtBody(int blockAlign)
    {
        var fmt = new MemoryStream();
        WriteUInt16(fmt, Extensible ? 0xFFFE : FormatTag);
        WriteUInt16(fmt, Channels);
        WriteUInt32(fmt, SampleRate);
        WriteUInt32(fmt, ByteRate ?? (uint)(SampleRate * blockAlign));
        WriteUInt16(fmt, blockAlign);
        WriteUInt16(fmt, BitsPerSample);
        if (Extensible)
        {
            WriteUInt16(fmt, 22);
            WriteUInt16(fmt, BitsPerSample);
            WriteUInt32(fmt, 0x3); // front left + right
            WriteUInt32(fmt, (uint)FormatTag);
            fmt.Write([0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]);
        }

        return fmt.ToArray();
    }

    private static void WriteChunk(MemoryStream stream, string id, byte[] body)
    {
        stream.Write(Encoding.ASCII.GetBytes(id));
        WriteUInt32(stream, (uint)body.Length);
        stream.Write(body);
        if (body.Length % 2 == 1)
        {
            stream.WriteByte(0);
        }
    }

    private static void WriteUInt16(MemoryStream stream, int value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value);
        stream.Write(bytes);
    }

    private static void WriteUInt32(MemoryStream stream, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        stream.Write(bytes);
    }
}
