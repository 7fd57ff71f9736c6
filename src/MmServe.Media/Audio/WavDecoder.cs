using System.Buffers.Text;

namespace MmServe.Media.Audio;

/// <summary>
/// Decodes untrusted RIFF/WAVE bytes (integer PCM 8/16/24/32-bit, IEEE float 32/64-bit, 1..MaxChannels
/// channels) to mono float32 under <see cref="AudioLimits"/>. Every header field is validated and the
/// duration is checked from header values before the sample buffer is allocated, so a short file whose
/// header claims hours costs nothing. Expected failures come back as <see cref="MediaError"/> values.
/// </summary>
/// <remarks>Thread-safe and stateless apart from its limits; one instance per process is enough.</remarks>
public sealed class WavDecoder
{
    public WavDecoder()
        : this(new AudioLimits())
    {
    }

    public WavDecoder(AudioLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        Limits = limits;
    }

    public AudioLimits Limits { get; }

    public MediaResult<DecodedAudio> Decode(ReadOnlySpan<byte> wav)
    {
        if (wav.Length > Limits.MaxBytes)
        {
            return AudioErrors.TooManyBytes(wav.Length, Limits.MaxBytes);
        }

        var layout = WavChunkReader.Read(wav, Limits);
        if (!layout.IsSuccess)
        {
            return layout.Error;
        }

        var (format, offset, length) = layout.Value;
        var mono = WavSampleConverter.ToMono(wav.Slice(offset, length), format);
        return mono is null
            ? AudioErrors.Invalid("it contains NaN or infinite float samples")
            : MediaResult<DecodedAudio>.Success(new DecodedAudio(mono, format.SampleRate, format.Channels));
    }

    /// <summary>
    /// Decodes base64 WAV bytes as sent in an OpenAI-style <c>input_audio.data</c> field. The decoded size
    /// is computed and checked before anything is allocated for it.
    /// </summary>
    public MediaResult<DecodedAudio> DecodeBase64(string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        if (!Base64.IsValid(base64.AsSpan(), out int decodedLength))
        {
            return AudioErrors.Invalid("the base64 payload is malformed");
        }

        if (decodedLength > Limits.MaxBytes)
        {
            return AudioErrors.TooManyBytes(decodedLength, Limits.MaxBytes);
        }

        var bytes = new byte[decodedLength];
        return Convert.TryFromBase64String(base64, bytes, out int written)
            ? Decode(bytes.AsSpan(0, written))
            : AudioErrors.Invalid("the base64 payload is malformed");
    }

    /// <summary>
    /// Reads at most <see cref="AudioLimits.MaxBytes"/> from <paramref name="stream"/> asynchronously
    /// (ASP.NET Core request bodies forbid synchronous reads), then decodes.
    /// </summary>
    public async Task<MediaResult<DecodedAudio>> DecodeAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = await BoundedStreamReader.ReadAsync(stream, Limits.MaxBytes, cancellationToken).ConfigureAwait(false);
        return bytes is { } wav ? Decode(wav.Span) : AudioErrors.StreamTooLong(Limits.MaxBytes);
    }
}
