namespace MmServe.Media.Images;

/// <summary>
/// The bundle's image preprocessing parameters (docs/model-bundle.draft.md, "Image preprocessing"):
/// resize to <see cref="Width"/> x <see cref="Height"/>, then <c>(v * RescaleFactor - Mean[c]) / Std[c]</c>, then the
/// colour planes are stored in <see cref="ChannelOrder"/> and <see cref="Layout"/>.
/// </summary>
/// <param name="Resize">Resize kernel; only <see cref="BilinearAntialias"/> is implemented.</param>
/// <param name="Mean">
/// Per-colour mean in R, G, B order (3 values), whatever <see cref="ChannelOrder"/> says: the channel order only
/// moves finished values, so a BGR tensor is exactly the RGB one with its channels reversed.
/// </param>
/// <param name="Std">Per-colour standard deviation in R, G, B order (3 non-zero values), as <see cref="Mean"/>.</param>
/// <param name="ChannelOrder"><see cref="Rgb"/> or <see cref="Bgr"/>: the order of the colour channels in the tensor.</param>
/// <param name="Layout"><see cref="Nchw"/> ([3, H, W], planar) or <see cref="Nhwc"/> ([H, W, 3], interleaved).</param>
public sealed record ImagePreprocessingSpec(
    int Width,
    int Height,
    string Resize,
    double RescaleFactor,
    IReadOnlyList<double> Mean,
    IReadOnlyList<double> Std,
    string ChannelOrder = ImagePreprocessingSpec.Rgb,
    string Layout = ImagePreprocessingSpec.Nchw)
{
    public const string Rgb = "rgb";
    public const string Bgr = "bgr";
    public const string Nchw = "nchw";
    public const string Nhwc = "nhwc";

    /// <summary>torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=True).</summary>
    public const string BilinearAntialias = "bilinear_antialias";

    /// <summary>Generous cap on the model input size; real encoders use a few hundred pixels.</summary>
    public const int MaxOutputSide = 8192;

    public const int Channels = 3;

    /// <summary>Throws <see cref="ArgumentException"/> describing the first invalid field; called at model load.</summary>
    public void Validate()
    {
        if (Width is <= 0 or > MaxOutputSide || Height is <= 0 or > MaxOutputSide)
        {
            throw new ArgumentException(
                $"Image preprocessing size {Width}x{Height} is invalid; each side must be in 1..{MaxOutputSide}.");
        }

        if (!string.Equals(Resize, BilinearAntialias, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Image preprocessing resize '{Resize}' is not supported; the only supported value is '{BilinearAntialias}'.",
                nameof(Resize));
        }

        if (!double.IsFinite(RescaleFactor) || RescaleFactor == 0)
        {
            throw new ArgumentException($"Image preprocessing rescale_factor {RescaleFactor} must be finite and non-zero.", nameof(RescaleFactor));
        }

        if (ChannelOrder is not (Rgb or Bgr))
        {
            throw new ArgumentException(
                $"Image preprocessing channel_order '{ChannelOrder}' is not supported; use '{Rgb}' or '{Bgr}'.", nameof(ChannelOrder));
        }

        if (Layout is not (Nchw or Nhwc))
        {
            throw new ArgumentException(
                $"Image preprocessing layout '{Layout}' is not supported; use '{Nchw}' or '{Nhwc}'.", nameof(Layout));
        }

        ValidateChannelValues(Mean, nameof(Mean), allowZero: true);
        ValidateChannelValues(Std, nameof(Std), allowZero: false);
    }

    private static void ValidateChannelValues(IReadOnlyList<double>? values, string name, bool allowZero)
    {
        if (values is null || values.Count != Channels)
        {
            throw new ArgumentException($"Image preprocessing {name.ToLowerInvariant()} must have exactly {Channels} values (R, G, B).", name);
        }

        foreach (double value in values)
        {
            if (!double.IsFinite(value) || (!allowZero && value == 0))
            {
                throw new ArgumentException(
                    $"Image preprocessing {name.ToLowerInvariant()} value {value} must be finite{(allowZero ? string.Empty : " and non-zero")}.",
                    name);
            }
        }
    }
}
