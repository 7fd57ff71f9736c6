using MmServe.Media;
using MmServe.Media.Audio;
using MmServe.Model.Bundle;

namespace MmServe.Serving.Media;

/// <summary>
/// Audio bytes → mono float32 → band-limited resampling to the model rate → log-mel features exactly per the
/// manifest. WAV and MP3 decode in-process; other containers (flac, ogg, webm, m4a) go through the hardened
/// ffmpeg decoder when ffmpeg is installed. The container is recognised from the bytes, not from the declared
/// format, so a mislabelled upload is decoded by what it is (or refused, see <see cref="DeclaredFormatCheck"/>),
/// never by what it claims.
/// </summary>
public sealed class AudioInputPreprocessor : IMediaPreprocessor
{
    /// <summary>input_audio.format values decoded in-process.</summary>
    public static readonly string[] InProcessFormats = ["wav", "mp3"];

    /// <summary>input_audio.format values decoded through ffmpeg.</summary>
    public static readonly string[] FfmpegFormats = ["flac", "ogg", "webm", "m4a", "mp4", "opus", "aac"];

    private readonly AudioPreprocessor _frontEnd;
    private readonly Mp3Decoder _mp3;
    private readonly IExternalAudioDecoder? _external;

    public AudioInputPreprocessor(LogMelSpec spec, AudioLimits limits, IExternalAudioDecoder? external)
    {
        _frontEnd = new AudioPreprocessor(spec, limits);
        _mp3 = new Mp3Decoder(limits);
        _external = external;
        OutputLength = spec.NMels * spec.FrameCount;
        ConfigurationKey = $"audio|{spec}";
    }

    public string Modality => ServedModel.AudioModality;

    public long MaxEncodedBytes => _frontEnd.Decoder.Limits.MaxBytes;

    public int OutputLength { get; }

    public string ConfigurationKey { get; }

    /// <summary>Formats clients may declare: in-process ones, plus ffmpeg's when it is available.</summary>
    public IReadOnlySet<string> Formats =>
        new HashSet<string>(_external is null ? InProcessFormats : [.. InProcessFormats, .. FfmpegFormats], StringComparer.Ordinal);

    public async Task<MediaResult<float[]>> PreprocessAsync(ReadOnlyMemory<byte> encoded, string? declaredFormat, CancellationToken ct)
    {
        var decoded = await DecodeAsync(encoded, ct).ConfigureAwait(false);
        return decoded.IsSuccess ? MediaResult<float[]>.Success(_frontEnd.Preprocess(decoded.Value)) : decoded.Error;
    }

    private async Task<MediaResult<DecodedAudio>> DecodeAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        var span = bytes.Span;
        if (span.StartsWith("RIFF"u8))
        {
            return _frontEnd.Decoder.Decode(span);
        }

        if (span.StartsWith("ID3"u8) || Mp3Decoder.LooksLikeMpegAudio(span))
        {
            return _mp3.Decode(bytes);
        }

        if (_external is not null)
        {
            return await _external.DecodeAsync(bytes, _frontEnd.Decoder.Limits.MaxSeconds, ct).ConfigureAwait(false);
        }

        // Without ffmpeg only WAV and MP3 can be read; the WAV decoder names what the bytes look like.
        return _frontEnd.Decoder.Decode(span);
    }

    /// <summary>The manifest's log-mel parameters as the media library's spec; a bad field names itself.</summary>
    public static LogMelSpec CreateSpec(PreprocessingSpec p, string where)
    {
        var spec = new LogMelSpec
        {
            SampleRate = p.SampleRate ?? 0,
            ClipSeconds = p.ClipSeconds ?? 0,
            NFft = p.NFft ?? 0,
            WinLength = p.WinLength ?? 0,
            HopLength = p.HopLength ?? 0,
            Window = p.Window ?? "",
            Center = p.Center ?? false,
            NMels = p.NMels ?? 0,
            FMin = p.FMin ?? 0,
            FMax = p.FMax ?? 0,
            MelScale = p.MelScale ?? "",
            MelNorm = null,
            Power = p.Power ?? 0,
            Log = p.Log ?? "",
            LogOffset = p.LogOffset ?? 0,
        };
        try
        {
            spec.Validate();
            return spec;
        }
        catch (ArgumentException e)
        {
            throw new BundleValidationException($"{where}: {e.Message}", e);
        }
    }
}

/// <summary>A decoder for containers the server does not parse itself (ffmpeg-backed).</summary>
public interface IExternalAudioDecoder
{
    Task<MediaResult<DecodedAudio>> DecodeAsync(ReadOnlyMemory<byte> encoded, double maxSeconds, CancellationToken ct);
}
