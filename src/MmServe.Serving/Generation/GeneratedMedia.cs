using MmServe.Media.Output;

namespace MmServe.Serving.Generation;

/// <summary>One generated item: the generator's raw samples and the modality that made them.</summary>
public sealed record GeneratedMedia(OutputModality Modality, float[] Samples)
{
    /// <summary>Completion index of the first signal token that produced it.</summary>
    public int TokenStart { get; init; }

    /// <summary>One past the completion index of its last signal token.</summary>
    public int TokenEnd { get; init; }

    public bool IsImage => Modality.Name == ServedModel.ImageModality;

    /// <summary>The image as PNG bytes (image modality: samples are planar RGB in [0, 1]).</summary>
    public byte[] ToPng() => GeneratedImageEncoder.EncodePng(Samples, Modality.Spec.Width ?? 0, Modality.Spec.Height ?? 0);

    public string ToPngDataUrl() => "data:image/png;base64," + Convert.ToBase64String(ToPng());

    /// <summary>The audio as a 16-bit WAV file at the model's sample rate (audio modality).</summary>
    public byte[] ToWav() => GeneratedAudioEncoder.EncodeWav(Samples, Modality.SampleRate);
}
