using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Media;
using MmServe.Media.Audio;
using MmServe.Media.Audio.Whisper;
using MmServe.Media.Ffmpeg;
using MmServe.Model.HuggingFace.Whisper;
using MmServe.Model.Tokenization;
using MmServe.Runtime.Onnx.EncoderDecoder;
using MmServe.Serving.Capabilities;
using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Models;

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
public sealed class WhisperModel : IFolderModel
{
    /// <summary>Whisper's window: longer audio is cut (long-form chunking is not implemented).</summary>
    public const double MaxSeconds = 30;

    private readonly WhisperConfig _config;
    private readonly ByteLevelBpeTokenizer _tokenizer;
    private readonly WhisperFeatureExtractor _features;
    private readonly OnnxSpeechEncoder _encoder;
    private readonly OracleAudioDecoder _decoder;
    private readonly GenerationEngine _engine;

    // Decoding (ffmpeg), log-mel and the encoder are CPU-bound: at most one request per core runs them, the rest wait
    // here (before any ffmpeg deadline starts), so a burst of uploads cannot time each other out.
    private readonly SemaphoreSlim _preprocess = new(Math.Max(1, Environment.ProcessorCount));

    public WhisperModel(string folder, int workers, EngineOptions engineOptions, FfmpegTools ffmpeg, ILoggerFactory? loggerFactory = null)
    {
        _config = WhisperConfig.Load(folder);
        Created = new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(folder, "config.json"))).ToUnixTimeSeconds();
        _tokenizer = ByteLevelBpeTokenizer.Load(Path.Combine(folder, "tokenizer.json"));
        var f = _config.Features;
        _features = WhisperFeatures.CreateExtractor(f);
        _encoder = new OnnxSpeechEncoder(new InferenceSession(Onnx(folder, WhisperConfig.EncoderFile)), f.FeatureSize, f.NbMaxFrames);
        _decoder = new OracleAudioDecoder(ffmpeg.IsAvailable ? new FfmpegAudioDecoder(ffmpeg) : null, f.SamplingRate);
        var spec = new Seq2SeqDecoderSpec(_config.DecoderLayers, _config.DecoderHeads, _config.HeadDim, _config.VocabSize, _config.DModel, _config.MaxTargetPositions);
        var rules = new Seq2SeqLogitRules(_config.Generation.SuppressTokens, _config.Generation.BeginSuppressTokens);
        string decoderPath = Onnx(folder, WhisperConfig.DecoderFile);
        _engine = Models.OwnEngine.Create(
            workers, engineOptions, maxBatch => new OnnxEncoderDecoderExecutor(new InferenceSession(decoderPath), spec, rules, maxBatch),
            _tokenizer, _config.Generation.EosTokenId, loggerFactory);
    }

    public WhisperConfig Config => _config;

    /// <summary>The id clients name it by (the "SpeechModels" entry's Id, else its folder's name).</summary>
    public string Id { get; init; } = "whisper";

    /// <summary>Unix seconds of config.json's last change (the "created" of its model card).</summary>
    public long Created { get; private init; }

    /// <summary>
    /// What GET /v1/models and mmserve.v1.ModelService report for this model: audio in, text out, the decoder's window
    /// as its context, and the containers it decodes here (16 kHz PCM WAV only without ffmpeg). No media limits: one
    /// upload per request, bounded by the server's request body limit.
    /// </summary>
    public ModelCapabilities Capabilities => new(
        [ServedModel.AudioModality],
        ["text"],
        _config.MaxTargetPositions,
        new SortedDictionary<string, string>(StringComparer.Ordinal),
        [],
        [.. MediaMimeTypes.All.Where(t => MediaMimeTypes.Resolve(t) is (ServedModel.AudioModality, var format) && (_decoder.DecodesAllFormats || format == "wav"))]);

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

    /// <summary>
    /// One short transcription before the server says it is ready (the WAV path, log-mel, the encoder, a few decoder
    /// steps): the first upload pays no session warm-up, and a model that loads but cannot decode keeps the server not
    /// ready. Null when it answered well, else what failed.
    /// </summary>
    public async Task<string?> WarmUpAsync(CancellationToken ct)
    {
        var (result, error) = await TranscribeAsync(SampleAudio.TwoBeepsWavBytes, null, WhisperGenerationConfig.Transcribe, 0, 4, "warm-up", ct).ConfigureAwait(false);
        return error is not null ? $"the warm-up transcription failed: {error.Message}"
            : result!.TokenIds.Count == 0 ? "the warm-up transcription produced no token"
            : null;
    }

    public void Dispose()
    {
        _engine.Dispose();
        _encoder.Dispose();
        _preprocess.Dispose();
    }

    private async Task<(float[]? Samples, ServingError? Error)> DecodeAsync(ReadOnlyMemory<byte> audio, CancellationToken ct)
    {
        var decoded = await _decoder.DecodeAsync(audio, MaxSeconds * 20, ct).ConfigureAwait(false);
        if (decoded.IsSuccess)
        {
            return (decoded.Value, null);
        }

        return _decoder.DecodesAllFormats || decoded.Error!.Code != MediaErrorCodes.UnsupportedAudioFormat
            ? (null, ServingError.FromMedia(decoded.Error!, "file"))
            : (null, ServingError.InputUnavailable("Only 16 kHz PCM WAV can be transcribed without ffmpeg on this server.", "file", "audio_format_unavailable"));
    }

    private static string Onnx(string folder, string stem) => Path.Combine(folder, "onnx", stem + ".onnx");
}
