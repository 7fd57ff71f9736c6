using NLayer;

namespace MmServe.Media.Audio;

/// <summary>
/// Decodes untrusted MP3 (MPEG-1/2 layer III, also layers I/II) in-process with NLayer, to mono float32 under
/// <see cref="AudioLimits"/>. MP3 has no trustworthy duration header, so the limit is enforced while decoding:
/// samples are pulled in fixed blocks and decoding stops as soon as the clip passes
/// <see cref="AudioLimits.MaxSeconds"/> — a tiny, highly compressed upload that would expand to hours costs at
/// most MaxSeconds of samples. Bytes that are not MPEG audio at all are refused before NLayer sees them.
/// </summary>
/// <remarks>Thread-safe; stateless apart from its limits.</remarks>
public sealed class Mp3Decoder
{
    /// <summary>Interleaved floats pulled per read (a few MP3 frames).</summary>
    private const int BlockFloats = 8192;

    /// <summary>MPEG audio frames found in a row before the bytes count as MP3 (one sync word is easy to fake).</summary>
    private const int FramesToConfirm = 2;

    public Mp3Decoder(AudioLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        Limits = limits;
    }

    public AudioLimits Limits { get; }

    /// <summary>Whether the bytes start (after an optional ID3v2 tag) with consecutive, consistent MPEG audio frames.</summary>
    public static bool LooksLikeMpegAudio(ReadOnlySpan<byte> bytes) => MpegFrameScanner.StartsWithFrames(bytes, FramesToConfirm);

    public MediaResult<DecodedAudio> Decode(ReadOnlyMemory<byte> mp3)
    {
        if (mp3.Length > Limits.MaxBytes)
        {
            return AudioErrors.TooManyBytes(mp3.Length, Limits.MaxBytes);
        }

        if (!MpegFrameScanner.StartsWithFrames(mp3.Span, FramesToConfirm))
        {
            return AudioErrors.InvalidMp3("no MPEG audio frames were found");
        }

        try
        {
            return DecodeFrames(mp3);
        }
        catch (Exception e) when (e is InvalidDataException or IndexOutOfRangeException or ArgumentException
            or InvalidOperationException or EndOfStreamException or NotSupportedException or OverflowException)
        {
            // NLayer reports corrupt streams with assorted exceptions; to the client they are all "not decodable".
            return AudioErrors.InvalidMp3("the MPEG audio stream is corrupt");
        }
    }

    private MediaResult<DecodedAudio> DecodeFrames(ReadOnlyMemory<byte> mp3)
    {
        using var stream = new ReadOnlyMemoryStream(mp3);
        using var file = new MpegFile(stream);
        int rate = file.SampleRate;
        int channels = file.Channels;
        if (rate <= 0 || channels is < 1 or > 2)
        {
            return AudioErrors.InvalidMp3("the stream header is invalid");
        }

        if (rate > Limits.MaxSampleRate)
        {
            return AudioErrors.SampleRateTooHigh(rate, Limits.MaxSampleRate);
        }

        long maxFrames = (long)Math.Ceiling(Limits.MaxSeconds * rate);
        var mono = new List<float>(capacity: (int)Math.Min(maxFrames, rate * 4L));
        var block = new float[BlockFloats - (BlockFloats % channels)];
        int read;
        while ((read = file.ReadSamples(block, 0, block.Length)) > 0)
        {
            for (int i = 0; i + channels <= read; i += channels)
            {
                float sum = 0;
                for (int c = 0; c < channels; c++)
                {
                    sum += block[i + c];
                }

                mono.Add(sum / channels);
            }

            if (mono.Count > maxFrames)
            {
                return AudioErrors.TooLongWhileDecoding(Limits.MaxSeconds);
            }
        }

        if (mono.Count == 0)
        {
            return AudioErrors.InvalidMp3("it contains no audio samples");
        }

        return MediaResult<DecodedAudio>.Success(new DecodedAudio(mono.ToArray(), rate, channels));
    }

    /// <summary>A read-only, seekable stream over memory the caller owns (NLayer wants a Stream).</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position
        {
            get => _position;
            set => _position = (int)Math.Clamp(value, 0, data.Length);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, data.Length - _position);
            data.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                _ => data.Length + offset,
            };
            return _position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
