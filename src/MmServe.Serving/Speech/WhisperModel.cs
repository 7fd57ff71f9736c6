using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Media.Audio;
using MmServe.Media.Audio.Whisper;
using MmServe.Media.Ffmpeg;
using MmServe.Model.HuggingFace.Whisper;
using MmServe.Model.Tokenization;
using MmServe.Runtime.Onnx.EncoderDecoder;
using MmServe.Serving.Errors;

namespace MmServe.Serving.Speech;

/// <summary>What one transcription produced.</summary>
/// <param name="Text">The decoded text, special tokens skipped, HF's clean-up applied (starts with a space, as Whisper's does).</param>
/// <param name="TokenIds">Generated ids, the final EOS included when generation stopped there.</param>
/// <param name="DecoderPromptIds">The forced start tokens.</param>
/// <param name="DurationSeconds">Length of the decoded audio.</param>
/// <param name="Language">The language code used.</param>
/// <param name="AvgLogprob">Mean natural-log probability of the generated tokens (after suppression).</param>
public sealed record TranscriptionResult(
    string Text, IReadOnlyList<int> TokenIds, IReadOnlyList<int> DecoderPromptIds, double DurationSeconds, string Language, FinishReason Finish, double AvgLogprob);

/// <summary>
/// A Whisper ONNX export served for speech-to-text: audio bytes → 16 kHz mono samples decoded as the oracle does
/// (ffmpeg with soxr for every container and rate; a 16 kHz PCM WAV in process, which is exact) → log-mel
/// features (<see cref="WhisperFeatureExtractor"/>) → encoder (<see cref="OnnxSpeechEncoder"/>) → an
/// encoder-decoder request on its own <see cref="GenerationEngine"/> (workers with
/// <see cref="OnnxEncoderDecoderExecutor"/>), forced start tokens from the language and task, greedy or sampled.
/// Not yet registered as a <c>ModelInstance</c> (see docs/architecture.md, "Encoder-decoder sequences").
/// </summary>
public sealed class WhisperModel : IDisposable
{
    /// <summary>Whisper's window: longer audio is cut (long-form chunking is not implemented).</summary>
    public const double MaxSeconds = 30;

    private readonly WhisperConfig _config;
    private readonly ByteLevelBpeTokenizer _tokenizer;
    private readonly WhisperFeatureExtractor _features;
    private readonly OnnxSpeechEncoder _encoder;
    private readonly FfmpegAudioDecoder? _ffmpeg;
    private readonly GenerationEngine _engine;

    // Decoding (ffmpeg), log-mel and the encoder are CPU-bound: at most one request per core runs them, the rest wait
    // here (before any ffmpeg deadline starts), so a burst of uploads cannot time each other out.
    private readonly SemaphoreSlim _preprocess = new(Math.Max(1, Environment.ProcessorCount));

    public WhisperModel(string folder, int workers, EngineOptions engineOptions, FfmpegTools ffmpeg, ILoggerFactory? loggerFactory = null)
    {
        _config = WhisperConfig.Load(folder);
        _tokenizer = ByteLevelBpeTokenizer.Load(Path.Combine(folder, "tokenizer.json"));
        var f = _config.Features;
        _features = new WhisperFeatureExtractor(new WhisperFeatureSpec
        {
            FeatureSize = f.FeatureSize, SamplingRate = f.SamplingRate, HopLength = f.HopLength, NFft = f.NFft, NSamples = f.NSamples, NbMaxFrames = f.NbMaxFrames,
        });
        _encoder = new OnnxSpeechEncoder(new InferenceSession(Onnx(folder, WhisperConfig.EncoderFile)), f.FeatureSize, f.NbMaxFrames);
        _ffmpeg = ffmpeg.IsAvailable ? new FfmpegAudioDecoder(ffmpeg) : null;
        var spec = new Seq2SeqDecoderSpec(_config.DecoderLayers, _config.DecoderHeads, _config.HeadDim, _config.VocabSize, _config.DModel, _config.MaxTargetPositions);
        var rules = new Seq2SeqLogitRules(_config.Generation.SuppressTokens, _config.Generation.BeginSuppressTokens);
        string decoderPath = Onnx(folder, WhisperConfig.DecoderFile);
        _engine = Models.OwnEngine.Create(
            workers, engineOptions, maxBatch => new OnnxEncoderDecoderExecutor(new InferenceSession(decoderPath), spec, rules, maxBatch),
            _tokenizer, _config.Generation.EosTokenId, loggerFactory);
    }

    public WhisperConfig Config => _config;

    public EngineStats Stats => _engine.Stats;

    /// <param name="language">ISO code ("en", "de", …) or null for English (transformers.js's default).</param>
    /// <param name="task">"transcribe" or "translate".</param>
    /// <param name="maxTokens">New tokens at most (the decoder's window bounds it too).</param>
    public async Task<(TranscriptionResult? Result, ServingError? Error)> TranscribeAsync(
        ReadOnlyMemory<byte> audio, string? language, string task, float temperature, int maxTokens, string requestId, CancellationToken ct)
    {
        var (ids, promptError) = _config.Generation.DecoderPromptIds(language, task);
        if (promptError is not null)
        {
            return (null, ServingError.Invalid(promptError, language is not null && task is WhisperGenerationConfig.Transcribe or WhisperGenerationConfig.Translate ? "language" : "task", "unsupported_value"));
        }

        float[]? samples;
        EncoderOutput encoded;
        await _preprocess.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            (samples, var mediaError) = await DecodeAsync(audio, ct).ConfigureAwait(false);
            if (mediaError is not null)
            {
                return (null, mediaError);
            }

            encoded = _encoder.Encode([_features.Compute(samples!)], ct)[0];
        }
        finally
        {
            _preprocess.Release();
        }

        var sampling = new SamplingParams { Temperature = temperature, MaxTokens = maxTokens, Logprobs = true };
        var handle = await _engine.SubmitAsync(new GenerationRequest(requestId, ids!, sampling) { Encoder = encoded }, ct).ConfigureAwait(false);
        if (handle.Rejection is { } rejection)
        {
            return (null, ServingError.FromEngine(rejection, requestId, "file"));
        }

        var tokens = new List<int>();
        double logprobSum = 0;
        await foreach (var item in handle.Events.ReadAllAsync(ct).ConfigureAwait(false))
        {
            switch (item)
            {
                case TokenDeltaEvent delta:
                    tokens.AddRange(delta.TokenIds);
                    logprobSum += delta.Logprobs?.Sum(l => (double)l.Logprob) ?? 0;
                    break;
                case FinishedEvent finished:
                    string text = WhisperText.CleanUp(_tokenizer.Decode(tokens.ToArray(), skipSpecial: true));
                    return (new TranscriptionResult(text, tokens, ids!, (double)samples!.Length / _config.Features.SamplingRate, language ?? "en", finished.Reason, tokens.Count == 0 ? 0 : logprobSum / tokens.Count), null);
                case ErrorEvent error:
                    return (null, ServingError.FromEngine(error.Error, requestId, "file"));
            }
        }

        return (null, ServingError.Internal(requestId));
    }

    public void Dispose()
    {
        _engine.Dispose();
        _encoder.Dispose();
        _preprocess.Dispose();
    }

    private async Task<(float[]? Samples, ServingError? Error)> DecodeAsync(ReadOnlyMemory<byte> audio, CancellationToken ct)
    {
        int rate = _config.Features.SamplingRate;

        // A PCM WAV already at the model's rate decodes exactly in process; everything else goes through ffmpeg + soxr.
        if (audio.Span.StartsWith("RIFF"u8))
        {
            var wav = new WavDecoder().Decode(audio.Span);
            if (!wav.IsSuccess)
            {
                return (null, ServingError.FromMedia(wav.Error!, "file"));
            }

            if (wav.Value.SampleRate == rate)
            {
                return (wav.Value.Samples.ToArray(), null);
            }
        }

        if (_ffmpeg is null)
        {
            return (null, ServingError.InputUnavailable("Only 16 kHz PCM WAV can be transcribed without ffmpeg on this server.", "file", "audio_format_unavailable"));
        }

        var decoded = await _ffmpeg.DecodeAsync(audio, MaxSeconds * 20, rate, ct).ConfigureAwait(false);
        return decoded.IsSuccess ? (decoded.Value.Samples.ToArray(), null) : (null, ServingError.FromMedia(decoded.Error!, "file"));
    }

    private static string Onnx(string folder, string stem) => Path.Combine(folder, "onnx", stem + ".onnx");
}
