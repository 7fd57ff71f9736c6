using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Serving.Media;

public static partial class MediaEmbedderFactory
{
    /// <summary>
    /// A raw-tensor modality (preprocessing kind "tensor"): the .npy checks of <see cref="TensorInputPreprocessor"/>,
    /// then its own encoder and projector, one item per run (shapes may differ), at most one per core at once. Items
    /// count against Limits:MaxImagesPerRequest.
    /// </summary>
    private static MediaModality CreateTensor(ServedModel model, string name, InputModalitySpec spec, string at, SessionFactory sessions, SemaphoreSlim gate)
    {
        var (tensor, problems) = TensorInputSpec.Parse(spec.Preprocessing);
        if (tensor is null)
        {
            throw new BundleValidationException([.. problems.Select(p => $"{at}.preprocessing.{p.Field} {p.Problem}")]);
        }

        var chain = new TensorEncoderChain(
            model.Bundle, Require(spec.Encoder, $"{at}.encoder"), Require(spec.Projector, $"{at}.projector"), sessions,
            spec.TokensPerItem, model.Bundle.Manifest.Decoder.HiddenSize);
        Task<float[]> EncodeAsync(float[] item, CancellationToken ct) =>
            RunGatedAsync(gate, () => chain.Run(TensorItem.Values(item), TensorItem.Shape(item), ct), ct);

        return new MediaModality(new TensorInputPreprocessor(name, tensor), EncodeAsync, chain);
    }
}
