using System.Buffers;
using Microsoft.Extensions.Options;
using MmServe.Media;
using MmServe.Media.Images;
using MmServe.Runtime.Onnx.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Api.Serving;

/// <summary>
/// Client images to LLM-space embeddings: hardened decode of each data: URL, the manifest's preprocessing, then
/// the image encoder and projector in one batch. Thread-safe; one instance serves all requests.
/// </summary>
internal sealed class ImageEmbedder : IDisposable
{
    private readonly SafeImageDecoder _decoder;
    private readonly ImagePreprocessor? _preprocessor;
    private readonly EncoderChain? _chain;

    public ImageEmbedder(
        ServedModel model,
        IOptions<LimitsOptions> limits,
        IOptions<WorkerPoolOptions> workers,
        ILoggerFactory loggerFactory)
    {
        _decoder = new SafeImageDecoder(limits.Value.Image);
        if (!model.Bundle.Manifest.InputModalities.TryGetValue(ServedModel.ImageModality, out var image))
        {
            return;
        }

        var manifestPath = model.Bundle.ManifestPath;
        if (image.Encoder is not { } encoder)
        {
            throw new BundleValidationException($"{manifestPath}: input_modalities.image.encoder is required");
        }

        var p = image.Preprocessing;
        var spec = new ImagePreprocessingSpec(
            p.Width ?? 0, p.Height ?? 0, p.Resize ?? "", p.RescaleFactor ?? 0, p.Mean ?? [], p.Std ?? []);
        try
        {
            _preprocessor = new ImagePreprocessor(spec);
        }
        catch (ArgumentException e)
        {
            throw new BundleValidationException($"{manifestPath}: input_modalities.image.preprocessing: {e.Message}", e);
        }

        // Encoders run on the first worker's device; their batch axis is shared by every image of a request.
        var sessions = OnnxExecutorFactory.CreateSessionFactory(workers.Value.Workers[0], loggerFactory);
        _chain = new EncoderChain(model.Bundle, encoder, image.Projector, sessions);
        if (_chain.InputLength != _preprocessor.OutputLength || _chain.TokensPerItem != image.TokensPerItem
            || _chain.HiddenSize != model.Bundle.Manifest.Decoder.HiddenSize)
        {
            _chain.Dispose();
            throw new BundleValidationException(
                $"{manifestPath}: input_modalities.image: the encoder takes {_chain.InputLength} values and yields {_chain.TokensPerItem}x{_chain.HiddenSize}, "
                + $"but preprocessing gives {_preprocessor.OutputLength} values and tokens_per_item x hidden_size is {image.TokensPerItem}x{model.Bundle.Manifest.Decoder.HiddenSize}");
        }
    }

    /// <summary>Whether the served model reads images.</summary>
    public bool IsAvailable => _chain is not null;

    /// <summary>Floats of one image's embeddings (tokens_per_item x hidden_size).</summary>
    public int EmbeddingLength => _chain is null ? 0 : _chain.TokensPerItem * _chain.HiddenSize;

    /// <summary>Decodes, preprocesses and encodes <paramref name="dataUrls"/> (in order).</summary>
    /// <returns>Embeddings of image i at [i * <see cref="EmbeddingLength"/>, ...), or the first image's error.</returns>
    public ImageEmbeddingResult Embed(IReadOnlyList<string> dataUrls, CancellationToken ct)
    {
        if (_chain is null || _preprocessor is null)
        {
            throw new InvalidOperationException("The served model takes no images.");
        }

        int length = _preprocessor.OutputLength;
        var pixels = ArrayPool<float>.Shared.Rent(dataUrls.Count * length);
        try
        {
            for (int i = 0; i < dataUrls.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var decoded = _decoder.DecodeDataUrl(dataUrls[i]);
                if (!decoded.IsSuccess)
                {
                    return new ImageEmbeddingResult(null, i, decoded.Error);
                }

                _preprocessor.Preprocess(decoded.Value, pixels.AsSpan(i * length, length));
            }

            return new ImageEmbeddingResult(_chain.Encode(pixels.AsMemory(0, dataUrls.Count * length), dataUrls.Count, ct), -1, null);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pixels);
        }
    }

    public void Dispose() => _chain?.Dispose();
}

/// <summary>Either all images' embeddings or the error of the image at <see cref="FailedIndex"/>.</summary>
internal sealed record ImageEmbeddingResult(float[]? Embeddings, int FailedIndex, MediaError? Error);
