using System.Collections.Concurrent;

namespace MmServe.Media.Audio;

/// <summary>
/// The whole audio front end for one model: WAV bytes → mono float32 → resampled to
/// <see cref="LogMelSpec.SampleRate"/> → log-mel features <c>[n_mels, frames]</c>.
/// </summary>
/// <remarks>Thread-safe; create one per loaded model.</remarks>
public sealed class AudioPreprocessor
{
    /// <summary>Clients pick the source rate; only this many distinct filters are kept.</summary>
    private const int MaxCachedResamplers = 16;

    private readonly ConcurrentDictionary<int, Resampler> _resamplers = new();

    public AudioPreprocessor(LogMelSpec spec, AudioLimits? limits = null)
    {
        Features = new LogMelSpectrogram(spec);
        Decoder = new WavDecoder(limits ?? new AudioLimits());

        // Every rate the decoder admits must be one the resampler accepts, or a client could turn an
        // expected failure into an exception.
        int maxRate = Decoder.Limits.MaxSampleRate;
        if (maxRate > Resampler.MaxRate || maxRate > (long)spec.SampleRate * Resampler.MaxDownsamplingRatio)
        {
            throw new ArgumentException(
                $"AudioLimits.MaxSampleRate {maxRate} exceeds {Resampler.MaxRate} Hz or {Resampler.MaxDownsamplingRatio}x the model rate {spec.SampleRate}.",
                nameof(limits));
        }
    }

    public WavDecoder Decoder { get; }

    public LogMelSpectrogram Features { get; }

    /// <summary>Decodes, resamples and computes the features; expected failures come back as values.</summary>
    public MediaResult<float[]> Preprocess(ReadOnlySpan<byte> wav)
    {
        var decoded = Decoder.Decode(wav);
        return decoded.IsSuccess ? MediaResult<float[]>.Success(Preprocess(decoded.Value)) : decoded.Error;
    }

    public float[] Preprocess(DecodedAudio audio)
    {
        ArgumentNullException.ThrowIfNull(audio);
        int targetRate = Features.Spec.SampleRate;
        if (audio.SampleRate == targetRate)
        {
            return Features.Compute(audio.Samples.Span);
        }

        // Only the clip that the features keep needs resampling, plus the filter's reach (FilterTaps covers
        // it with room to spare): then the kept samples are identical and a 30 s upload for a 2 s clip
        // costs 2 s of work.
        var resampler = ResamplerFor(audio.SampleRate);
        long neededInput = ((long)Features.Spec.ClipSamples * audio.SampleRate / targetRate) + 1 + resampler.FilterTaps;
        var samples = audio.Samples.Span;
        if (samples.Length > neededInput)
        {
            samples = samples[..(int)neededInput];
        }

        return Features.Compute(resampler.Process(samples));
    }

    private Resampler ResamplerFor(int sourceRate)
    {
        if (_resamplers.TryGetValue(sourceRate, out var cached))
        {
            return cached;
        }

        var resampler = new Resampler(sourceRate, Features.Spec.SampleRate);
        if (_resamplers.Count < MaxCachedResamplers)
        {
            _resamplers.TryAdd(sourceRate, resampler);
        }

        return resampler;
    }
}
