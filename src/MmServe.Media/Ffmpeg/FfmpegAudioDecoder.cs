using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MmServe.Media.Audio;

namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Decodes compressed client audio (FLAC, Ogg Vorbis/Opus, WebM Opus, M4A AAC, MP3, …) to mono float32
/// at the stream's own sample rate; the caller resamples with its band-limited resampler. The probe's
/// duration is checked first, and the decoded output is capped at the duration limit as well, so a clip
/// whose header understates its length is still stopped.
/// </summary>
/// <remarks>Thread-safe; each call uses its own temp directory and processes.</remarks>
public sealed class FfmpegAudioDecoder
{
    private const int BytesPerSample = sizeof(float);

    private readonly FfmpegTools _tools;
    private readonly MediaProbe _probe;

    public FfmpegAudioDecoder(FfmpegTools tools, FfmpegAudioLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(tools);
        Limits = limits ?? new FfmpegAudioLimits();
        Limits.Validate();
        _tools = tools;
        _probe = new MediaProbe(tools, Limits.Timeout);
    }

    public FfmpegAudioLimits Limits { get; }

    /// <summary>
    /// Mono samples (channels averaged) at the stream's sample rate. Cancellation kills any running tool
    /// and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public Task<MediaResult<DecodedAudio>> DecodeAsync(ReadOnlyMemory<byte> encoded, double maxSeconds, CancellationToken cancellationToken = default) =>
        DecodeAsync(encoded, maxSeconds, resampleTo: null, cancellationToken);

    /// <summary>
    /// As <see cref="DecodeAsync(ReadOnlyMemory{byte}, double, CancellationToken)"/>, resampled by ffmpeg's soxr
    /// (precision 28) to <paramref name="resampleTo"/> when set: exactly how the Whisper oracle decodes its clips.
    /// </summary>
    public async Task<MediaResult<DecodedAudio>> DecodeAsync(ReadOnlyMemory<byte> encoded, double maxSeconds, int? resampleTo, CancellationToken cancellationToken = default)
    {
        // maxSeconds comes from server configuration, not the client: a bad value is a bug.
        if (!(maxSeconds > 0) || MaxSamples(maxSeconds, Limits.MaxSampleRate) > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSeconds), maxSeconds, "Must be > 0 and leave the decoded clip within one array.");
        }

        if (!_tools.IsAvailable)
        {
            return FfmpegErrors.Unavailable(FfmpegMediaKind.Audio);
        }

        if (encoded.IsEmpty)
        {
            return FfmpegErrors.Invalid(FfmpegMediaKind.Audio, "the input is empty");
        }

        if (encoded.Length > Limits.MaxBytes)
        {
            return FfmpegErrors.TooManyBytes(FfmpegMediaKind.Audio, encoded.Length, Limits.MaxBytes);
        }

        // At most one ffmpeg job per core; the rest wait here, before their deadline starts, so a burst of uploads
        // queues instead of timing itself out.
        await _tools.Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ProbeAndDecodeAsync(encoded, maxSeconds, resampleTo, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _tools.Slots.Release();
        }
    }

    private async Task<MediaResult<DecodedAudio>> ProbeAndDecodeAsync(ReadOnlyMemory<byte> encoded, double maxSeconds, int? resampleTo, CancellationToken cancellationToken)
    {
        var deadline = new OperationDeadline(Limits.Timeout);
        using var input = await TempMediaFile.WriteAsync(encoded, cancellationToken).ConfigureAwait(false);

        // Audio decoders allocate little, so one probe that decodes stream info (for the true output rate,
        // e.g. 48 kHz for any Opus) is enough; the pixel cap covers any video stream the file also holds.
        var probe = await _probe.IdentifyAsync(input, FfmpegMediaKind.Audio, decodeStreamInfo: true, maxPixels: 4096L * 4096, deadline, cancellationToken).ConfigureAwait(false);
        if (!probe.IsSuccess)
        {
            return probe.Error;
        }

        if (Check(probe.Value, maxSeconds) is { } problem)
        {
            return problem;
        }

        return await DecodeStreamAsync(input, probe.Value, maxSeconds, resampleTo, deadline, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Samples allowed for <paramref name="maxSeconds"/> at <paramref name="sampleRate"/>, plus slack for
    /// codec padding a decoder legitimately emits past the nominal end (AAC pads to whole 1024-sample frames).
    /// </summary>
    internal static long MaxSamples(double maxSeconds, int sampleRate) =>
        (long)Math.Ceiling(maxSeconds * sampleRate) + Math.Max(4096, sampleRate / 10);

    private MediaError? Check(MediaProbeResult probe, double maxSeconds)
    {
        if (probe.Audio is not { } audio || audio.StreamIndex < 0)
        {
            return FfmpegErrors.Invalid(FfmpegMediaKind.Audio, "it contains no audio stream");
        }

        if (!FfmpegWhitelists.IsCodecAllowed(audio.Codec, FfmpegMediaKind.Audio))
        {
            return FfmpegErrors.UnsupportedCodec(FfmpegMediaKind.Audio, audio.Codec);
        }

        if (audio.SampleRate <= 0 || audio.Channels <= 0)
        {
            return FfmpegErrors.Invalid(FfmpegMediaKind.Audio, "its sample rate or channel count is unknown");
        }

        if (audio.SampleRate > Limits.MaxSampleRate)
        {
            return FfmpegErrors.SampleRateTooHigh(audio.SampleRate, Limits.MaxSampleRate);
        }

        if (audio.Channels > Limits.MaxChannels)
        {
            return FfmpegErrors.TooManyChannels(audio.Channels, Limits.MaxChannels);
        }

        return probe.LongestAudioDuration is { } seconds && seconds > maxSeconds
            ? FfmpegErrors.TooLong(FfmpegMediaKind.Audio, seconds, maxSeconds)
            : null;
    }

    private async Task<MediaResult<DecodedAudio>> DecodeStreamAsync(
        TempMediaFile input, MediaProbeResult probe, double maxSeconds, int? resampleTo, OperationDeadline deadline, CancellationToken cancellationToken)
    {
        var audio = probe.Audio!;
        int outputRate = resampleTo ?? audio.SampleRate;
        long maxBytes = MaxSamples(maxSeconds, Math.Max(outputRate, audio.SampleRate)) * BytesPerSample;
        long expectedBytes = (long)((probe.LongestAudioDuration ?? 0) * outputRate) * BytesPerSample;
        var output = new BufferingSink((int)Math.Min(maxBytes, expectedBytes + 65536));
        var request = new ProcessRunRequest(
            _tools.FfmpegPath!,
            FfmpegArguments.DecodeAudio(input, probe.Demuxer, audio, resampleTo),
            input.Directory,
            deadline.Remaining,
            maxBytes);
        var run = await ToolProcessRunner.RunAsync(request, output, cancellationToken).ConfigureAwait(false);
        var bytes = output.Written.Span;
        return run.End switch
        {
            ProcessEnd.TimedOut => FfmpegErrors.Timeout(FfmpegMediaKind.Audio, deadline.Limit),
            ProcessEnd.FailedToStart => FfmpegErrors.Unavailable(FfmpegMediaKind.Audio),
            ProcessEnd.OutputLimitExceeded => FfmpegErrors.LongerThanDeclared(FfmpegMediaKind.Audio, maxSeconds),
            _ when !run.Succeeded || bytes.Length % BytesPerSample != 0 =>
                FfmpegErrors.Invalid(FfmpegMediaKind.Audio, "its audio stream is corrupt or truncated"),
            _ when bytes.IsEmpty => FfmpegErrors.Invalid(FfmpegMediaKind.Audio, "it contains no audio samples"),
            _ => ToSamples(bytes) is { } samples
                ? MediaResult<DecodedAudio>.Success(new DecodedAudio(samples, outputRate, audio.Channels))
                : FfmpegErrors.Invalid(FfmpegMediaKind.Audio, "it decodes to NaN or infinite samples"),
        };
    }

    /// <summary>f32le bytes to floats; null when any sample is not finite (it would poison the log-mel features).</summary>
    private static float[]? ToSamples(ReadOnlySpan<byte> bytes)
    {
        var samples = new float[bytes.Length / BytesPerSample];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(bytes).CopyTo(samples);
        }
        else
        {
            for (int i = 0; i < samples.Length; i++)
            {
                samples[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * BytesPerSample)..]);
            }
        }

        foreach (float sample in samples)
        {
            if (!float.IsFinite(sample))
            {
                return null;
            }
        }

        return samples;
    }
}
