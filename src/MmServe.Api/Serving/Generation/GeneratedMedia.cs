using MmServe.Media.Output;

namespace MmServe.Api.Serving.Generation;

/// <summary>One generated item: the generator's raw samples and the modality that made them.</summary>
internal sealed record GeneratedMedia(OutputModality Modality, float[] Samples)
{
    public bool IsImage => Modality.Name == ServedModel.ImageModality;

    /// <summary>The image as PNG bytes (image modality: samples are planar RGB in [0, 1]).</summary>
    public byte[] ToPng() => GeneratedImageEncoder.EncodePng(Samples, Modality.Spec.Width ?? 0, Modality.Spec.Height ?? 0);

    public string ToPngDataUrl() => "data:image/png;base64," + Convert.ToBase64String(ToPng());
}
