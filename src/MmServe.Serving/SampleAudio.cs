using System.Buffers.Binary;

namespace MmServe.Serving;

/// <summary>A real WAV clip (two 0.15 s beeps at 880 Hz, 16 kHz 16-bit mono, 1 s), for the Swagger audio example and the warm-ups.</summary>
public static class SampleAudio
{
    private const int Rate = 16000;

    public static string TwoBeepsWavBase64 { get; } = Convert.ToBase64String(TwoBeepsWav());

    /// <summary>The same clip as bytes: one second of 16 kHz mono 16-bit PCM WAV.</summary>
    public static ReadOnlyMemory<byte> TwoBeepsWavBytes { get; } = TwoBeepsWav();

    private static byte[] TwoBeepsWav()
    {
        var samples = new short[Rate];
        foreach (double start in (double[])[0.1, 0.35])
        {
            for (int i = (int)(start * Rate); i < (int)((start + 0.15) * Rate); i++)
            {
                samples[i] = (short)(0.5 * short.MaxValue * Math.Sin(2 * Math.PI * 880 * i / Rate));
            }
        }

        var wav = new byte[44 + (samples.Length * 2)];
        "RIFF"u8.CopyTo(wav);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(4), wav.Length - 8);
        "WAVEfmt "u8.CopyTo(wav.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(20), 1); // PCM
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(22), 1); // mono
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(24), Rate);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(28), Rate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(32), 2);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(34), 16);
        "data"u8.CopyTo(wav.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(40), samples.Length * 2);
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(44 + (2 * i)), samples[i]);
        }

        return wav;
    }
}
