using System.Security.Cryptography;
using MmServe.Media;
using MmServe.Media.Ffmpeg;
using MmServe.Media.Images;
using MmServe.Media.Images.HuggingFace;
using MmServe.Model.Bundle;

namespace MmServe.Serving.Media;

/// <summary>
/// Qwen2-VL images and videos → <see cref="Qwen2VLImageProcessor"/> patches. Images: hardened decode with EXIF
/// orientation (transformers' load_image); videos: the hardened ffmpeg sampler, every frame up to
/// <c>maxFrames</c> (uniformly sampled beyond). The item is laid out as <see cref="Qwen2VLMediaItem"/> says, so its
/// grid travels with it.
/// </summary>
public sealed class Qwen2VLInputPreprocessor : IMediaPreprocessor
{
    private static readonly ImageDecodeOptions Decoding = new() { ApplyExifOrientation = true };

    private readonly Qwen2VLImageProcessor _processor;
    private readonly SafeImageDecoder? _decoder;
    private readonly VideoFrameSampler? _sampler;
    private readonly int _maxFrames;

    private Qwen2VLInputPreprocessor(
        string modality, Qwen2VLImageProcessor processor, SafeImageDecoder? decoder, VideoFrameSampler? sampler, int maxFrames, long maxEncodedBytes, string key)
    {
        Modality = modality;
        _processor = processor;
        _decoder = decoder;
        _sampler = sampler;
        _maxFrames = maxFrames;
        MaxEncodedBytes = maxEncodedBytes;
        ConfigurationKey = key;
    }

    public Qwen2VLImageProcessor Processor => _processor;

    public string Modality { get; }

    public long MaxEncodedBytes { get; }

    /// <summary>0: an item's length follows from its grid.</summary>
    public int OutputLength => 0;

    public string ConfigurationKey { get; }

    /// <exception cref="BundleValidationException">The preprocessor config is malformed.</exception>
    public static Qwen2VLInputPreprocessor ForImages(PreprocessingSpec spec, ImageLimits limits, string where)
    {
        var (processor, key) = Load(spec, where);
        var decoder = new SafeImageDecoder(limits);
        return new(ServedModel.ImageModality, processor, decoder, null, 0, decoder.Limits.MaxBytes, key);
    }

    /// <param name="maxFrames">Frames used at most; a longer video is sampled uniformly down to this many.</param>
    /// <exception cref="BundleValidationException">The preprocessor config is malformed.</exception>
    public static Qwen2VLInputPreprocessor ForVideos(PreprocessingSpec spec, VideoFrameSampler sampler, int maxFrames, long maxEncodedBytes, string where)
    {
        var (processor, key) = Load(spec, where);
        return new(ServedModel.VideoModality, processor, null, sampler, maxFrames, maxEncodedBytes, $"{key}|frames<={maxFrames}");
    }

    public async Task<MediaResult<float[]>> PreprocessAsync(ReadOnlyMemory<byte> encoded, string? declaredFormat, CancellationToken ct)
    {
        IReadOnlyList<RgbImage> frames;
        if (_sampler is null)
        {
            var decoded = _decoder!.Decode(encoded, Decoding);
            if (!decoded.IsSuccess)
            {
                return decoded.Error;
            }

            frames = [decoded.Value];
        }
        else
        {
            var sampled = await _sampler.SampleAtMostAsync(encoded, _maxFrames, ct).ConfigureAwait(false);
            if (!sampled.IsSuccess)
            {
                return sampled.Error;
            }

            frames = sampled.Value;
        }

        try
        {
            _processor.ResizedSize(frames[0].Width, frames[0].Height);
        }
        catch (ArgumentException e)
        {
            return new MediaError(MediaErrorCodes.ImageAspectRatio, $"The {Modality} cannot be preprocessed for this model: {e.Message}");
        }

        var pixels = _sampler is null ? _processor.ProcessImage(frames[0]) : _processor.ProcessVideo(frames);
        return Qwen2VLMediaItem.Preprocessed(pixels);
    }

    private static (Qwen2VLImageProcessor Processor, string Key) Load(PreprocessingSpec spec, string where)
    {
        var path = spec.ConfigFile ?? throw new BundleValidationException($"{where}.config_file is required");
        var bytes = File.ReadAllBytes(path);
        try
        {
            return (new Qwen2VLImageProcessor(Qwen2VLImageProcessorConfig.Parse(bytes, path)), $"{spec.Kind}|{Convert.ToHexStringLower(SHA256.HashData(bytes))}");
        }
        catch (InvalidDataException e)
        {
            throw new BundleValidationException(e.Message, e);
        }
    }
}

/// <summary>
/// How a Qwen2-VL item carries its grid (t, h, w in patches) from preprocessing, through the encoder and its output
/// cache, to the prompt (pad run length) and the M-RoPE positions: preprocessed, <c>[t, h, w, patches...]</c>;
/// encoded, one header row of hidden-size floats starting <c>t, h, w</c>, then the feature rows.
/// </summary>
public static class Qwen2VLMediaItem
{
    public const int GridLength = 3;

    public static float[] Preprocessed(Qwen2VLPixelValues pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        var item = new float[GridLength + pixels.Data.Length];
        (item[0], item[1], item[2]) = (pixels.GridT, pixels.GridH, pixels.GridW);
        pixels.Data.CopyTo(item, GridLength);
        return item;
    }

    /// <summary>The grid at the start of a preprocessed or encoded item.</summary>
    public static (int T, int H, int W) Grid(ReadOnlySpan<float> item) => ((int)item[0], (int)item[1], (int)item[2]);

    /// <summary>The patches of a preprocessed item.</summary>
    public static ReadOnlyMemory<float> Patches(float[] item) => item.AsMemory(GridLength);

    public static float[] Encoded((int T, int H, int W) grid, float[] features, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(features);
        var item = new float[hiddenSize + features.Length];
        (item[0], item[1], item[2]) = (grid.T, grid.H, grid.W);
        features.CopyTo(item, hiddenSize);
        return item;
    }

    /// <summary>LLM positions of an encoded item (its feature rows).</summary>
    public static int Tokens(float[] encoded, int hiddenSize) => (encoded.Length / hiddenSize) - 1;

    /// <summary>The feature rows of an encoded item.</summary>
    public static ReadOnlyMemory<float> Features(float[] encoded, int hiddenSize) => encoded.AsMemory(hiddenSize);
}
