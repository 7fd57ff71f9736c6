using System.Globalization;
using MmServe.Media;
using MmServe.Media.Images;
using MmServe.Model.Bundle;

namespace MmServe.Serving.Media;

/// <summary>
/// Fuyu's encoder-free image input (preprocessing "fuyu_patches"): the image at its own size — refused outside the
/// manifest's min/max width and height, never resized — rescaled and normalised per channel, padded on the right and
/// bottom with padding_value to whole patches, and cut into a row-major grid of patches whose values run row, column,
/// channel. The item carries its grid (<see cref="FuyuMediaItem"/>), since the prompt's run depends on it.
/// </summary>
public sealed class FuyuPatchPreprocessor : IMediaPreprocessor
{
    /// <summary>Error code of an image whose width or height is outside the model's limits (a 400).</summary>
    public const string ImageSizeOutOfRange = "image_size_out_of_range";

    private readonly SafeImageDecoder _decoder;

    public FuyuPatchPreprocessor(FuyuPatchSpec spec, ImageLimits limits)
    {
        Spec = spec;
        _decoder = new SafeImageDecoder(limits);
        ConfigurationKey = "fuyu_patches|" + spec.Key;
    }

    public FuyuPatchSpec Spec { get; }

    public string Modality => ServedModel.ImageModality;

    public long MaxEncodedBytes => _decoder.Limits.MaxBytes;

    /// <summary>0: an item's length follows from its grid.</summary>
    public int OutputLength => 0;

    public string ConfigurationKey { get; }

    public Task<MediaResult<float[]>> PreprocessAsync(ReadOnlyMemory<byte> encoded, string? declaredFormat, CancellationToken ct)
    {
        var decoded = _decoder.Decode(encoded);
        if (!decoded.IsSuccess)
        {
            return Task.FromResult(MediaResult<float[]>.Failure(decoded.Error));
        }

        var image = decoded.Value;
        var s = Spec;
        if (image.Width < s.MinWidth || image.Height < s.MinHeight || image.Width > s.MaxWidth || image.Height > s.MaxHeight)
        {
            return Task.FromResult(MediaResult<float[]>.Failure(new MediaError(ImageSizeOutOfRange,
                $"The image is {image.Width}x{image.Height} pixels; this model takes images from {s.MinWidth}x{s.MinHeight} "
                + $"to {s.MaxWidth}x{s.MaxHeight} pixels (it does not resize them).")));
        }

        return Task.FromResult(MediaResult<float[]>.Success(Patchify(image, s)));
    }

    /// <summary>The item: <c>[rows, cols, patch values...]</c>, rows x cols patches of patch_size² x 3 values each.</summary>
    public static float[] Patchify(RgbImage image, FuyuPatchSpec s)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(s);
        var (rows, cols) = s.Grid(image.Width, image.Height);
        int p = s.PatchSize;
        var item = new float[FuyuMediaItem.GridLength + (rows * cols * s.PatchDimension)];
        item[0] = rows;
        item[1] = cols;
        var pixels = image.Pixels.Span;
        Span<int> source = stackalloc int[3];
        for (int c = 0; c < 3; c++)
        {
            source[c] = s.Bgr ? 2 - c : c;
        }

        for (int y = 0; y < rows * p; y++)
        {
            for (int x = 0; x < cols * p; x++)
            {
                // patch (y / p, x / p), its values row (y % p), column (x % p), channel
                int at = FuyuMediaItem.GridLength + ((((y / p * cols) + (x / p)) * s.PatchDimension) + ((((y % p) * p) + (x % p)) * 3));
                bool inside = y < image.Height && x < image.Width;
                for (int c = 0; c < 3; c++)
                {
                    // float64 arithmetic, as the recipe (mmtiny.features) computes it, then one rounding to float32
                    item[at + c] = inside
                        ? (float)(((pixels[(((y * image.Width) + x) * 3) + source[c]] * s.RescaleFactor) - s.Mean[c]) / s.Std[c])
                        : (float)s.PaddingValue;
                }
            }
        }

        return item;
    }
}

/// <summary>The manifest's fuyu_patches preprocessing, checked (the bundle validator has checked each field).</summary>
public sealed record FuyuPatchSpec(
    int PatchSize, int MinWidth, int MinHeight, int MaxWidth, int MaxHeight, double RescaleFactor,
    IReadOnlyList<double> Mean, IReadOnlyList<double> Std, double PaddingValue, bool Bgr)
{
    public int PatchDimension => PatchSize * PatchSize * 3;

    /// <summary>(rows, cols) of whole patches covering a width x height image (the last ones padded).</summary>
    public (int Rows, int Cols) Grid(int width, int height) =>
        ((height + PatchSize - 1) / PatchSize, (width + PatchSize - 1) / PatchSize);

    /// <summary>Everything that shapes the patches, for the encoder output cache key.</summary>
    public string Key => string.Create(CultureInfo.InvariantCulture,
        $"{PatchSize}|{MinWidth}x{MinHeight}-{MaxWidth}x{MaxHeight}|{RescaleFactor:R}|{string.Join(',', Mean.Select(m => m.ToString("R", CultureInfo.InvariantCulture)))}|{string.Join(',', Std.Select(m => m.ToString("R", CultureInfo.InvariantCulture)))}|{PaddingValue:R}|{(Bgr ? "bgr" : "rgb")}");

    /// <exception cref="BundleValidationException">A field is missing (the validator names it first; this is a backstop).</exception>
    public static FuyuPatchSpec From(PreprocessingSpec p, string where)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new(
            p.PatchSize ?? throw new BundleValidationException($"{where}.patch_size is required"),
            p.MinWidth ?? 1, p.MinHeight ?? 1,
            p.MaxWidth ?? throw new BundleValidationException($"{where}.max_width is required"),
            p.MaxHeight ?? throw new BundleValidationException($"{where}.max_height is required"),
            p.RescaleFactor ?? 1.0 / 255.0,
            p.Mean ?? [0.0, 0.0, 0.0], p.Std ?? [1.0, 1.0, 1.0], p.PaddingValue ?? 0.0,
            p.ChannelOrder == PreprocessingSpec.ChannelOrderBgr);
    }
}

/// <summary>
/// How a Fuyu item carries its patch grid from preprocessing, through the projector and the encoder output cache, to
/// the prompt: preprocessed, <c>[rows, cols, patches...]</c>; encoded, one header row of hidden-size floats starting
/// <c>rows, cols</c>, then rows x cols embedding rows. Its prompt run is rows x (cols + 1) positions (a row break
/// after every row).
/// </summary>
public static class FuyuMediaItem
{
    public const int GridLength = 2;

    public static (int Rows, int Cols) Grid(ReadOnlySpan<float> item) => ((int)item[0], (int)item[1]);

    public static ReadOnlyMemory<float> Patches(float[] item) => item.AsMemory(GridLength);

    public static float[] Encoded((int Rows, int Cols) grid, float[] embeddings, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        var item = new float[hiddenSize + embeddings.Length];
        (item[0], item[1]) = (grid.Rows, grid.Cols);
        embeddings.CopyTo(item, hiddenSize);
        return item;
    }

    /// <summary>Prompt positions of an encoded item: its patch rows plus one row break per grid row.</summary>
    public static int Positions(float[] encoded)
    {
        var (rows, cols) = Grid(encoded);
        return rows * (cols + 1);
    }

    public static ReadOnlyMemory<float> Embeddings(float[] encoded, int hiddenSize) => encoded.AsMemory(hiddenSize);
}
