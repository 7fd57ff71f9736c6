using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Media.Images;
using MmServe.Media.Images.HuggingFace;
using MmServe.Model.HuggingFace.Florence2;
using MmServe.Model.Tokenization;
using MmServe.Runtime.Onnx.EncoderDecoder;
using MmServe.Serving.Capabilities;
using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Models;

namespace MmServe.Serving.Florence2;

/// <summary>What one Florence-2 generation produced.</summary>
/// <param name="Text">The decoded answer, special tokens skipped, HF's clean-up applied.</param>
/// <param name="TokenIds">Generated ids: the forced &lt;s&gt; first, the final &lt;/s&gt; included when generation stopped there.</param>
/// <param name="Prompt">The task prompt the text was mapped to (Florence2Processor.construct_prompts).</param>
/// <param name="PromptIds">The tokenized prompt (&lt;s&gt; … &lt;/s&gt;).</param>
/// <param name="EncoderTokens">Image features + prompt tokens the decoder attends to.</param>
public sealed record Florence2Result(
    string Text, IReadOnlyList<int> TokenIds, string Prompt, IReadOnlyList<int> PromptIds, int EncoderTokens, FinishReason Finish);

/// <summary>
/// A Florence-2 ONNX export (transformers.js layout) served for image + task prompt → text: image bytes → hardened
/// decode → CLIPImageProcessor of preprocessor_config.json → vision encoder + embed_tokens + encoder
/// (<see cref="OnnxFlorence2Encoder"/>) → an encoder-decoder request on its own <see cref="GenerationEngine"/>
/// (workers with <see cref="OnnxEncoderDecoderExecutor"/> over inputs_embeds), starting from
/// decoder_start_token_id with forced_bos_token_id forced first, as transformers.js generates.
/// </summary>
public sealed class Florence2Model : IFolderModel
{
    private static readonly ImageDecodeOptions Decoding = new() { ApplyExifOrientation = true };

    private readonly Florence2Config _config;
    private readonly ByteLevelBpeTokenizer _tokenizer;
    private readonly SafeImageDecoder _decoder;
    private readonly ClipImageProcessor _processor;
    private readonly OnnxFlorence2Encoder _encoder;
    private readonly GenerationEngine _engine;

    // Decode, preprocessing and the encoder are CPU-bound: at most one request per core runs them.
    private readonly SemaphoreSlim _preprocess = new(Math.Max(1, Environment.ProcessorCount));

    public Florence2Model(string folder, int workers, EngineOptions engineOptions, ImageLimits? imageLimits = null, ILoggerFactory? loggerFactory = null)
    {
        _config = Florence2Config.Load(folder);
        Created = new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(folder, "config.json"))).ToUnixTimeSeconds();
        _tokenizer = ByteLevelBpeTokenizer.Load(Path.Combine(folder, "tokenizer.json"));
        _decoder = new SafeImageDecoder(imageLimits ?? new ImageLimits());
        string preprocessor = Path.Combine(folder, Florence2TaskPrompts.FileName);
        _processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse(File.ReadAllBytes(preprocessor), preprocessor));
        _encoder = new OnnxFlorence2Encoder(
            new InferenceSession(Onnx(folder, Florence2Config.VisionFile)),
            new InferenceSession(Onnx(folder, Florence2Config.EmbedFile)),
            new InferenceSession(Onnx(folder, Florence2Config.EncoderFile)),
            _config.DModel);
        var spec = new Seq2SeqDecoderSpec(_config.DecoderLayers, _config.DecoderHeads, _config.HeadDim, _config.VocabSize, _config.DModel, _config.MaxPositions)
        {
            TakesInputsEmbeds = true,
            TakesEncoderAttentionMask = true,
        };
        var rules = Seq2SeqLogitRules.None with
        {
            ForcedFirstToken = _config.Generation.ForcedBosTokenId,
            NoRepeatNgramSize = _config.Generation.NoRepeatNgramSize,
        };
        string decoderPath = Onnx(folder, Florence2Config.DecoderFile);
        var embed = _encoder.EmbedTokens;
        _engine = Models.OwnEngine.Create(
            workers, engineOptions, maxBatch => new OnnxEncoderDecoderExecutor(new InferenceSession(decoderPath), spec, rules, maxBatch, embedTokens: embed),
            _tokenizer, _config.Generation.EosTokenId, loggerFactory);
    }

    public Florence2Config Config => _config;

    /// <summary>The id clients name it by (the "Florence2Models" entry's Id, else its folder's name).</summary>
    public string Id { get; init; } = "florence2";

    /// <summary>Unix seconds of config.json's last change (the "created" of its model card).</summary>
    public long Created { get; private init; }

    /// <summary>
    /// What GET /v1/models and mmserve.v1.ModelService report: one image and a task text in, text out, the encoder's
    /// positions (image features and prompt together) as its context, the image formats the safe decoder reads.
    /// </summary>
    public ModelCapabilities Capabilities => new(
        [ServedModel.ImageModality, "text"],
        ["text"],
        _config.MaxPositions,
        new SortedDictionary<string, string>(StringComparer.Ordinal),
        [],
        [.. MediaMimeTypes.All.Where(t => MediaMimeTypes.Resolve(t) is (ServedModel.ImageModality, _))]);

    /// <summary>
    /// A few caption tokens of a small sample image before the server says it is ready (decode, processor, the three
    /// encoder sessions, decoder steps): the first request pays no session warm-up, and a model that loads but cannot
    /// answer keeps the server not ready. Null when it answered well, else what failed.
    /// </summary>
    public async Task<string?> WarmUpAsync(CancellationToken ct)
    {
        var image = Convert.FromBase64String(SampleImage.RedSquarePngBase64);
        var (result, error) = await GenerateAsync(image, "<CAPTION>", 0, 4, "warm-up", "image_url", ct).ConfigureAwait(false);
        return error is not null ? $"the warm-up caption failed: {error.Message}"
            : result!.TokenIds.Count == 0 ? "the warm-up caption produced no token"
            : null;
    }

    public EngineStats Stats => _engine.Stats;

    /// <param name="image">The encoded image (PNG, JPEG, …).</param>
    /// <param name="text">A task token such as "&lt;CAPTION&gt;", a task token with its input, or free text.</param>
    /// <param name="maxTokens">New tokens at most (the decoder's positions bound it too).</param>
    /// <param name="imageParam">The request field holding the image, named in errors about it.</param>
    public async Task<(Florence2Result? Result, ServingError? Error)> GenerateAsync(
        ReadOnlyMemory<byte> image, string text, float temperature, int maxTokens, string requestId, string imageParam, CancellationToken ct)
    {
        string prompt = _config.Prompts.Construct(text);
        // As the processor's tokenizer call: the post-processor's <s> … </s> around the prompt (added tokens in a
        // user's free text match as in transformers.js, which tokenizes the text as it is).
        var affixes = _tokenizer.PostProcessor;
        int[] promptIds = [.. affixes.Prefix, .. _tokenizer.Encode(prompt), .. affixes.Suffix];
        if (promptIds.Length >= _config.MaxPositions)
        {
            return (null, ServingError.Invalid(
                $"The prompt is {promptIds.Length} tokens long; this model's encoder takes at most {_config.MaxPositions} positions, image included.",
                "messages", "context_length_exceeded"));
        }

        EncoderOutput encoded;
        await _preprocess.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var decoded = _decoder.Decode(image, Decoding);
            if (!decoded.IsSuccess)
            {
                return (null, ServingError.FromMedia(decoded.Error!, imageParam));
            }

            var pixels = _processor.Process(decoded.Value);
            encoded = _encoder.Encode(pixels.Data, pixels.Height, pixels.Width, promptIds, ct);
        }
        finally
        {
            _preprocess.Release();
        }

        if (encoded.Length > _config.MaxPositions)
        {
            return (null, ServingError.Invalid(
                $"Image features and prompt take {encoded.Length} positions; this model's encoder takes at most {_config.MaxPositions}.",
                "messages", "context_length_exceeded"));
        }

        int budget = Math.Min(maxTokens, _config.MaxPositions - 1);
        var sampling = new SamplingParams { Temperature = temperature, MaxTokens = budget };
        int[] start = [_config.Generation.DecoderStartTokenId];
        var handle = await _engine.SubmitAsync(new GenerationRequest(requestId, start, sampling) { Encoder = encoded }, ct).ConfigureAwait(false);
        if (handle.Rejection is { } rejection)
        {
            return (null, ServingError.FromEngine(rejection, requestId));
        }

        var tokens = new List<int>();
        await foreach (var item in handle.Events.ReadAllAsync(ct).ConfigureAwait(false))
        {
            switch (item)
            {
                case TokenDeltaEvent delta:
                    tokens.AddRange(delta.TokenIds);
                    break;
                case FinishedEvent finished:
                    string answer = Speech.WhisperText.CleanUp(_tokenizer.Decode(tokens.ToArray(), skipSpecial: true));
                    return (new Florence2Result(answer, tokens, prompt, promptIds, encoded.Length, finished.Reason), null);
                case ErrorEvent error:
                    return (null, ServingError.FromEngine(error.Error, requestId));
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

    private static string Onnx(string folder, string stem) => Path.Combine(folder, "onnx", stem + ".onnx");
}
