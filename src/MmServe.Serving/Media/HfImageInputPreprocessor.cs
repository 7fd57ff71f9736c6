using System.Security.Cryptography;
using MmServe.Media;
using MmServe.Media.Images;
using MmServe.Media.Images.HuggingFace;
using MmServe.Model.Bundle;

namespace MmServe.Serving.Media;

/// <summary>
/// Image bytes → hardened decode (EXIF orientation applied, as transformers' load_image does) → a Hugging Face
/// image processor from the export's preprocessor_config.json: CLIPImageProcessor (LLaVA) or Phi3VImageProcessor.
/// A Phi-3-V item is its crops padded to num_crops + 1, followed by its padded height and width (what
/// <see cref="Runtime.Onnx.Execution.VisionEncoderChain"/> feeds as image_sizes).
/// </summary>
public sealed class HfImageInputPreprocessor : IMediaPreprocessor
{
    private static readonly ImageDecodeOptions Decoding = new() { ApplyExifOrientation = true };

    private readonly SafeImageDecoder _decoder;
    private readonly ClipImageProcessor? _clip;
    private readonly Phi3VImageProcessor? _phi3V;

    private HfImageInputPreprocessor(ImageLimits limits, ClipImageProcessor? clip, Phi3VImageProcessor? phi3V, long[] pixelShape, string configKey)
    {
        _decoder = new SafeImageDecoder(limits);
        _clip = clip;
        _phi3V = phi3V;
        PixelShape = pixelShape;
        int pixels = (int)pixelShape.Aggregate(1L, (a, b) => a * b);
        OutputLength = pixels + (phi3V is null ? 0 : 2);
        ConfigurationKey = configKey;
    }

    /// <summary>One item's pixel tensor without the batch dimension.</summary>
    public long[] PixelShape { get; }

    public string Modality => ServedModel.ImageModality;

    public long MaxEncodedBytes => _decoder.Limits.MaxBytes;

    public int OutputLength { get; }

    public string ConfigurationKey { get; }

    /// <exception cref="BundleValidationException">The preprocessor config is malformed or gives images of varying size.</exception>
    public static HfImageInputPreprocessor Create(PreprocessingSpec spec, ImageLimits limits, string where)
    {
        var path = spec.ConfigFile ?? throw new BundleValidationException($"{where}.config_file is required");
        var bytes = File.ReadAllBytes(path);
        var key = $"{spec.Kind}|{Convert.ToHexStringLower(SHA256.HashData(bytes))}";
        try
        {
            if (spec.Kind == PreprocessingSpec.KindHfPhi3V)
            {
                var phi3V = new Phi3VImageProcessor(Phi3VImageProcessorConfig.Parse(bytes, path));
                var padded = phi3V.Process(new RgbImage(1, 1, new byte[3]));
                return new HfImageInputPreprocessor(limits, null, phi3V, [1 + padded.MaxCrops, 3, padded.TileSize, padded.TileSize], key);
            }

            var clip = new ClipImageProcessor(ClipImageProcessorConfig.Parse(bytes, path));
            var (height, width) = clip.OutputSize(1000, 1000);
            if (clip.OutputSize(1000, 500) != (height, width))
            {
                throw new BundleValidationException($"{path}: resizing without a center crop gives images of varying size, which the vision encoder cannot batch; not supported");
            }

            return new HfImageInputPreprocessor(limits, clip, null, [3, height, width], key);
        }
        catch (InvalidDataException e)
        {
            throw new BundleValidationException(e.Message, e);
        }
    }

    public Task<MediaResult<float[]>> PreprocessAsync(ReadOnlyMemory<byte> encoded, string? declaredFormat, CancellationToken ct)
    {
        var decoded = _decoder.Decode(encoded, Decoding);
        if (!decoded.IsSuccess)
        {
            return Task.FromResult(MediaResult<float[]>.Failure(decoded.Error));
        }

        var output = new float[OutputLength];
        if (_phi3V is null)
        {
            _clip!.Process(decoded.Value, output);
            return Task.FromResult(MediaResult<float[]>.Success(output));
        }

        try
        {
            _phi3V.ImageSizeFor(decoded.Value.Width, decoded.Value.Height);
        }
        catch (ArgumentException e)
        {
            // Phi-3-V cannot tile extreme aspect ratios (a side would round to 0 pixels), as in Python.
            return Task.FromResult(MediaResult<float[]>.Failure(new MediaError(MediaErrorCodes.ImageAspectRatio, $"The image cannot be preprocessed for this model: {e.Message}")));
        }

        var pixels = _phi3V.Process(decoded.Value);
        pixels.CopyPadded(output.AsSpan(0, OutputLength - 2));
        output[^2] = pixels.Size.Height;
        output[^1] = pixels.Size.Width;
        return Task.FromResult(MediaResult<float[]>.Success(output));
    }
}
