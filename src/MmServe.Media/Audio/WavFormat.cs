namespace MmServe.Media.Audio;

/// <summary>How one sample is stored in the data chunk.</summary>
internal enum WavSampleEncoding
{
    /// <summary>Integer PCM: unsigned 8-bit, or signed 16/24/32-bit little-endian.</summary>
    Pcm,

    /// <summary>IEEE 754 float, 32 or 64 bits, little-endian.</summary>
    IeeeFloat,
}

/// <summary>A validated fmt chunk: every field is consistent with the others and within <see cref="AudioLimits"/>.</summary>
internal readonly record struct WavFormat(WavSampleEncoding Encoding, int Channels, int SampleRate, int BitsPerSample)
{
    public int BytesPerSample => BitsPerSample / 8;

    /// <summary>Bytes per frame (one sample of every channel).</summary>
    public int BlockAlign => Channels * BytesPerSample;
}
