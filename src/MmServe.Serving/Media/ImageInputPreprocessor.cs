using MmServe.Media;
using MmServe.Media.Images;
using MmServe.Model.Bundle;

namespace MmServe.Serving.Media;

/// <summary>Image bytes → hardened ImageSharp decode → the manifest's resize and normalisation → pixel floats.</summary>
public sealed class ImageInputPreprocessor : IMediaPreprocessor
{
    private readonly SafeImageDecoder _decoder;

    public ImageInputPreprocessor(ImagePreprocessor preprocessor, ImageLimits limits)
    {
        Preprocessor = preprocessor;
        _decoder = new SafeImageDecoder(limits);
        ConfigurationKey = "image|" + KeyOf(preprocessor.Spec);
    }

    public ImagePreprocessor Preprocessor { get; }

    public string Modality => ServedModel.ImageModality;

    public long MaxEncodedBytes => _decoder.Limits.MaxBytes;

    public int OutputLength => Preprocessor.OutputLength;

    public string ConfigurationKey { get; }

    public Task<MediaResult<float[]>> PreprocessAsync(ReadOnlyMemory<byte> encoded, string? declaredFormat, CancellationToken ct)
    {
        var decoded = _decoder.Decode(encoded);
        return Task.FromResult(decoded.IsSuccess
            ? MediaResult<float[]>.Success(Preprocessor.Preprocess(decoded.Value))
            : MediaResult<float[]>.Failure(decoded.Error));
    }

    /// <summary>
    /// Every field of the spec, spelled out: the record's own ToString prints list fields as their type name, so
    /// two specs differing only in mean/std would share cache entries.
    /// </summary>
    public static string KeyOf(ImagePreprocessingSpec spec) => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"{spec.Width}x{spec.Height}|{spec.Resize}|{spec.RescaleFactor:R}|{string.Join(',', spec.Mean.Select(m => m.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}|{string.Join(',', spec.Std.Select(m => m.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}|{spec.ChannelOrder}|{spec.Layout}");

    /// <summary>The manifest's image preprocessing as the media library's spec; a bad field names itself.</summary>
    public static ImagePreprocessor CreatePreprocessor(PreprocessingSpec p, string where)
    {
        var spec = new ImagePreprocessingSpec(p.Width ?? 0, p.Height ?? 0, p.Resize ?? "", p.RescaleFactor ?? 0, p.Mean ?? [], p.Std ?? [],
            p.ChannelOrder ?? ImagePreprocessingSpec.Rgb, p.Layout ?? ImagePreprocessingSpec.Nchw);
        try
        {
            return new ImagePreprocessor(spec);
        }
        catch (ArgumentException e)
        {
            throw new BundleValidationException($"{where}: {e.Message}", e);
        }
    }
}
