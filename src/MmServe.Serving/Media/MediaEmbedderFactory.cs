using MmServe.Serving;
using MmServe.Media.Remote;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Serving.Media;

/// <summary>
/// Builds the <see cref="MediaEmbedder"/> at startup from the manifest's input modalities, the limits and the
/// tools found on the machine. A modality the manifest declares but the server cannot serve (video without
/// ffmpeg) is left out with its reason, which start-up logs and /v1/models reports; a malformed manifest entry
/// fails start with a message naming the field.
/// </summary>
public static partial class MediaEmbedderFactory
{
    public static MediaEmbedder Create(
        ServedModel model,
        LimitsOptions limits,
        MediaOptions media,
        WorkerOptions encoderWorker,
        FfmpegSupport ffmpeg,
        ILoggerFactory loggerFactory,
        Telemetry.ServingMetrics? metrics = null,
        string encoderWorkerKey = "Workers:0")
    {
        var manifest = model.Bundle.Manifest;
        var where = model.Bundle.ManifestPath;
        var logger = loggerFactory.CreateLogger(typeof(MediaEmbedderFactory));
        var sessions = OnnxExecutorFactory.CreateSessionFactory(encoderWorker, encoderWorkerKey, loggerFactory);
        var modalities = new Dictionary<string, MediaModality>(StringComparer.Ordinal);
        var unavailable = new Dictionary<string, string>(StringComparer.Ordinal);
        var maxItems = new Dictionary<string, int>(StringComparer.Ordinal);
        IReadOnlySet<string> audioFormats = new HashSet<string>();
        Qwen2VLVisionEncoder? qwen2VLEncoder = null;

        // Qwen2-VL items and Ultravox clips run one ORT run each: at most one per core at once, for all this model's media.
        var itemRuns = new SemaphoreSlim(Environment.ProcessorCount);
        try
        {
            foreach (var (name, spec) in manifest.InputModalities)
            {
                var at = $"{where}: input_modalities.{name}";
                IMediaPreprocessor? pre;
                EncoderChain? chain = null;
                VisionEncoderChain? vision = null;
                switch (spec.Preprocessing.Kind)
                {
                    case PreprocessingSpec.KindImage when spec.Instruction is not null:
                        modalities[name] = CreateInstructed(model, spec, at, limits, media, sessions, loggerFactory, metrics, name);
                        maxItems[name] = limits.MaxImagesPerRequest;
                        continue;
                    case PreprocessingSpec.KindFuyuPatches:
                        modalities[name] = CreatePatches(model, spec, at, limits, sessions, itemRuns);
                        maxItems[name] = limits.MaxImagesPerRequest;
                        continue;
                    case PreprocessingSpec.KindImage:
                        pre = new ImageInputPreprocessor(ImageInputPreprocessor.CreatePreprocessor(spec.Preprocessing, $"{at}.preprocessing"), limits.Image);
                        chain = new EncoderChain(model.Bundle, Require(spec.Encoder, $"{at}.encoder"), Require(spec.Projector, $"{at}.projector"), sessions);
                        break;
                    case PreprocessingSpec.KindLogMel:
                        var audio = new AudioInputPreprocessor(
                            AudioInputPreprocessor.CreateSpec(spec.Preprocessing, $"{at}.preprocessing"), limits.Audio, ffmpeg.AudioDecoder);
                        audioFormats = audio.Formats;
                        pre = audio;
                        chain = new EncoderChain(model.Bundle, Require(spec.Encoder, $"{at}.encoder"), Require(spec.Projector, $"{at}.projector"), sessions);
                        break;
                    case PreprocessingSpec.KindVideoFrames:
                        pre = CreateVideo(model, spec, at, limits, ffmpeg, out var reason);
                        if (pre is null)
                        {
                            unavailable[name] = reason!;
                            Log.ModalityUnavailable(logger, name, reason!);
                            continue;
                        }

                        int frames = spec.Preprocessing.NumFrames ?? 0;
                        chain = new EncoderChain(model.Bundle, Require(spec.FrameEncoder, $"{at}.frame_encoder"), Require(spec.Projector, $"{at}.projector"), sessions, frames);
                        break;
                    case PreprocessingSpec.KindHfQwen2VL:
                        if (CreateQwen2VL(model, name, spec, at, limits, ffmpeg, sessions, itemRuns, ref qwen2VLEncoder, out var reason2) is not { } qwenModality)
                        {
                            unavailable[name] = reason2!;
                            Log.ModalityUnavailable(logger, name, reason2!);
                            continue;
                        }

                        modalities[name] = qwenModality;
                        maxItems[name] = name == ServedModel.VideoModality ? limits.MaxVideosPerRequest : limits.MaxImagesPerRequest;
                        continue;
                    case PreprocessingSpec.KindHfUltravoxAudio:
                        modalities[name] = CreateUltravox(model, spec, at, limits, ffmpeg, sessions, itemRuns, out audioFormats);
                        maxItems[name] = limits.MaxAudioPerRequest;
                        continue;
                    case PreprocessingSpec.KindTensor:
                        modalities[name] = CreateTensor(model, name, spec, at, sessions, itemRuns);
                        maxItems[name] = limits.MaxImagesPerRequest;
                        continue;
                    case PreprocessingSpec.KindHfClip or PreprocessingSpec.KindHfPhi3V:
                        // Hugging Face exports: the vision encoder already ends in the projector.
                        var hf = HfImageInputPreprocessor.Create(spec.Preprocessing, limits.Image, $"{at}.preprocessing");
                        pre = hf;
                        vision = new VisionEncoderChain(
                            model.Bundle, Require(spec.Encoder, $"{at}.encoder"), sessions, hf.PixelShape, spec.TokensPerItem, manifest.Decoder.HiddenSize);
                        break;
                    default:
                        unavailable[name] = $"This server cannot preprocess '{spec.Preprocessing.Kind}' input.";
                        continue;
                }

                IBatchedChain batched = vision is null ? CheckShapes(chain!, pre, MediaTokensPerItem(manifest, name, spec), manifest.Decoder.HiddenSize, at) : vision;
                var batcher = new ComponentBatcher(
                    batched, vision?.MaxBatch(media.EncoderBatching.MaxBatch) ?? media.EncoderBatching.MaxBatch, TimeSpan.FromMilliseconds(media.EncoderBatching.MaxWaitMs), loggerFactory.CreateLogger<ComponentBatcher>(), spanName: $"encoder {name}",
                    runObserved: metrics is null ? null : items => metrics.ComponentRun(model.Id, "encoder", name, items));
                modalities[name] = new MediaModality(pre, batcher, (IDisposable?)vision ?? chain!);
                maxItems[name] = name switch
                {
                    ServedModel.AudioModality => limits.MaxAudioPerRequest,
                    ServedModel.VideoModality => limits.MaxVideosPerRequest,
                    _ => limits.MaxImagesPerRequest,
                };
                if (manifest.CrossAttention is { } cross && cross.Modality == name)
                {
                    // More items than the model's cross-attention takes are refused with the other media limits (400).
                    maxItems[name] = Math.Min(maxItems[name], cross.MaxItems);
                }
            }
        }
        catch
        {
            foreach (var m in modalities.Values)
            {
                m.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            if (!modalities.Values.Any(m => m.Owns(qwen2VLEncoder)))
            {
                qwen2VLEncoder?.Dispose();
            }

            throw;
        }

        var remote = media.Remote.Enabled ? new RemoteMediaSource(new RemoteMediaFetcher(media.Remote)) : null;
        var policy = new MediaPolicy(maxItems, unavailable, audioFormats, remote is not null);
        var cache = new EncoderOutputCache(media.EncoderCache.MaxBytes);
        metrics?.ObserveEncoderCache(model.Id, cache);
        return new MediaEmbedder(modalities, policy, cache, remote)
        {
            Decoded = metrics is null ? null : (modality, duration) => metrics.MediaDecoded(model.Id, modality, duration),
        };
    }

    /// <summary>
    /// A Qwen2-VL image or video modality: its own preprocessor, and the vision encoder shared by both (created by
    /// the first, owned by it). Items differ in length, so they are encoded one run each, at most one per core at once.
    /// </summary>
    private static MediaModality? CreateQwen2VL(
        ServedModel model, string name, InputModalitySpec spec, string at, LimitsOptions limits, FfmpegSupport ffmpeg, SessionFactory sessions,
        SemaphoreSlim gate, ref Qwen2VLVisionEncoder? encoder, out string? reason)
    {
        reason = null;
        Qwen2VLInputPreprocessor pre;
        if (name == ServedModel.VideoModality)
        {
            if (ffmpeg.VideoSampler is null)
            {
                reason = $"Video input needs ffmpeg, which is not available on this server ({ffmpeg.Problem}).";
                return null;
            }

            int maxFrames = Math.Min(spec.Preprocessing.NumFrames ?? Qwen2VLDefaultMaxFrames, limits.Video.MaxFrames);
            pre = Qwen2VLInputPreprocessor.ForVideos(spec.Preprocessing, ffmpeg.VideoSampler, maxFrames, limits.Video.MaxBytes, $"{at}.preprocessing");
        }
        else
        {
            pre = Qwen2VLInputPreprocessor.ForImages(spec.Preprocessing, limits.Image, $"{at}.preprocessing");
        }

        int hidden = model.Bundle.Manifest.Decoder.HiddenSize;
        bool creates = encoder is null;
        var vision = encoder ??= new Qwen2VLVisionEncoder(
            model.Bundle, Require(spec.Encoder, $"{at}.encoder"), sessions, pre.Processor.Config.PatchDimension,
            model.Bundle.HuggingFace?.Qwen2VL?.SpatialMergeSize ?? pre.Processor.Config.MergeSize, hidden);
        Task<float[]> EncodeAsync(float[] input, CancellationToken ct) => RunGatedAsync(gate, () =>
        {
            var grid = Qwen2VLMediaItem.Grid(input);
            var features = vision.Run(Qwen2VLMediaItem.Patches(input), [grid], ct);
            return Qwen2VLMediaItem.Encoded(grid, features, hidden);
        }, ct);

        return new MediaModality(pre, EncodeAsync, creates ? vision : null);
    }

    /// <summary>
    /// Ultravox audio: clips decoded as the oracle decodes them, log-mel at each clip's length, the audio encoder run
    /// once per clip (lengths differ). Its rows must number what UltravoxProcessor expands the placeholder to.
    /// </summary>
    private static MediaModality CreateUltravox(
        ServedModel model, InputModalitySpec spec, string at, LimitsOptions limits, FfmpegSupport ffmpeg, SessionFactory sessions, SemaphoreSlim gate,
        out IReadOnlySet<string> formats)
    {
        var config = model.Bundle.HuggingFace?.Ultravox ?? throw new BundleValidationException($"{at}: {spec.Preprocessing.Kind} needs an ultravox export");
        var features = WhisperFeatures.CreateExtractor(config.Features);
        var pre = new UltravoxAudioPreprocessor(config, new OracleAudioDecoder(ffmpeg.Audio, config.Features.SamplingRate), features, limits.Audio.MaxBytes);
        formats = new HashSet<string>(ffmpeg.Audio is null ? ["wav"] : [.. AudioInputPreprocessor.InProcessFormats, .. AudioInputPreprocessor.FfmpegFormats], StringComparer.Ordinal);
        int hidden = model.Bundle.Manifest.Decoder.HiddenSize;
        var encoder = new UltravoxAudioEncoder(model.Bundle, Require(spec.Encoder, $"{at}.encoder"), sessions, features.MelCount, hidden);
        Task<float[]> EncodeAsync(float[] input, CancellationToken ct) => RunGatedAsync(gate, () =>
        {
            var rows = encoder.Run(UltravoxAudioItem.Features(input), ct);
            int samples = UltravoxAudioItem.Samples(input);
            if (rows.Length != config.AudioTokens(samples) * hidden)
            {
                throw new InvalidOperationException(
                    $"the audio encoder returned {rows.Length / hidden} rows for {samples} samples; the processor expands the placeholder to {config.AudioTokens(samples)}");
            }

            return rows;
        }, ct);

        return new MediaModality(pre, EncodeAsync, encoder);
    }

    /// <summary>One encoder run on the thread pool, at most as many at once as <paramref name="gate"/> allows.</summary>
    private static async Task<float[]> RunGatedAsync(SemaphoreSlim gate, Func<float[]> run, CancellationToken ct)
    {
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await Task.Run(run, ct).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Frames a Qwen2-VL video uses at most unless its preprocessing says num_frames.</summary>
    private const int Qwen2VLDefaultMaxFrames = 32;

    private static VideoInputPreprocessor? CreateVideo(
        ServedModel model, InputModalitySpec spec, string at, LimitsOptions limits, FfmpegSupport ffmpeg, out string? reason)
    {
        if (ffmpeg.VideoSampler is null)
        {
            reason = $"Video input needs ffmpeg, which is not available on this server ({ffmpeg.Problem}).";
            return null;
        }

        var p = spec.Preprocessing;
        if (p.NumFrames is not (> 0) || p.Sampling != "uniform" || p.FramePreprocessing != PreprocessingSpec.KindImage)
        {
            throw new BundleValidationException($"{at}.preprocessing: video_frames needs num_frames > 0, sampling 'uniform' and frame_preprocessing 'image'");
        }

        // Frames are preprocessed exactly like images of the modality the frame encoder belongs to.
        var imageSpec = model.Bundle.Manifest.InputModalities.Values.FirstOrDefault(m => m.Encoder == spec.FrameEncoder)?.Preprocessing
            ?? throw new BundleValidationException($"{at}.frame_encoder: no image modality uses encoder '{spec.FrameEncoder}'");
        reason = null;
        return new VideoInputPreprocessor(
            ffmpeg.VideoSampler, ImageInputPreprocessor.CreatePreprocessor(imageSpec, $"{at}.frame_preprocessing"), p.NumFrames.Value, limits.Video.MaxBytes);
    }

    /// <summary>Rows the encoder chain yields per item: tokens_per_item, or a cross-attended modality's media tokens (its marker is one token).</summary>
    private static int MediaTokensPerItem(BundleManifest manifest, string modality, InputModalitySpec spec) =>
        manifest.CrossAttention is { } cross && cross.Modality == modality ? cross.MediaTokensPerItem : spec.TokensPerItem;

    private static EncoderChain CheckShapes(EncoderChain chain, IMediaPreprocessor pre, int tokensPerItem, int hiddenSize, string at)
    {
        if (chain.InputLength != pre.OutputLength || chain.TokensPerItem != tokensPerItem || chain.HiddenSize != hiddenSize)
        {
            chain.Dispose();
            throw new BundleValidationException(
                $"{at}: the encoder chain takes {chain.InputLength} values and yields {chain.TokensPerItem}x{chain.HiddenSize}, "
                + $"but preprocessing gives {pre.OutputLength} values and tokens_per_item x hidden_size is {tokensPerItem}x{hiddenSize}");
        }

        return chain;
    }

    private static string Require(string? value, string field) =>
        value ?? throw new BundleValidationException($"{field} is required");

    private static partial class Log
    {
        [LoggerMessage(40, LogLevel.Warning, "Input modality '{Modality}' is not served: {Reason}")]
        public static partial void ModalityUnavailable(ILogger logger, string modality, string reason);
    }
}
