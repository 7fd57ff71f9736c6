namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// PIL's <c>Image.Resampling</c> filters, with PIL's numeric values: the <c>resample</c> field of a
/// <c>preprocessor_config.json</c> holds one of these numbers.
/// </summary>
public enum PilResampling
{
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
    Hamming = 5,
}
