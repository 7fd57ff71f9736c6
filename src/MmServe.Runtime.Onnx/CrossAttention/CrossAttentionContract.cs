using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.CrossAttention;

/// <summary>
/// Checks a cross-attention bundle's decoder and cross_kv sessions against its manifest at start-up: every tensor the
/// executor feeds or reads exists with its element type and head sizes, and the decoder needs nothing else.
/// </summary>
internal static class CrossAttentionContract
{
    public static void Check(ModelBundle bundle, InferenceSession decoder, InferenceSession crossKv)
    {
        var spec = bundle.Manifest.Decoder;
        var x = bundle.Manifest.CrossAttention!;
        var errors = new List<string>();
        string decoderFile = bundle.ComponentPath(spec.Component);
        string kvFile = bundle.ComponentPath(x.Component);
        var fed = new List<(string Name, TensorElementType Type, int Heads, int Dim)>
        {
            (spec.InputsEmbeds, TensorElementType.Float, 0, 0), (spec.AttentionMask, TensorElementType.Int64, 0, 0),
            (spec.PositionIds, TensorElementType.Int64, 0, 0), (x.MediaMask, TensorElementType.Int64, 0, 0),
        };
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            fed.Add((spec.PastKeyName(layer), TensorElementType.Float, spec.NumKvHeads, spec.HeadDim));
            fed.Add((spec.PastValueName(layer), TensorElementType.Float, spec.NumKvHeads, spec.HeadDim));
        }

        for (int block = 0; block < x.NumBlocks; block++)
        {
            fed.Add((x.KeyName(block), TensorElementType.Float, x.NumHeads, x.HeadDim));
            fed.Add((x.ValueName(block), TensorElementType.Float, x.NumHeads, x.HeadDim));
            Expect(errors, kvFile, crossKv.OutputMetadata, "output", (x.KeyName(block), TensorElementType.Float, x.NumHeads, x.HeadDim));
            Expect(errors, kvFile, crossKv.OutputMetadata, "output", (x.ValueName(block), TensorElementType.Float, x.NumHeads, x.HeadDim));
        }

        foreach (var tensor in fed)
        {
            Expect(errors, decoderFile, decoder.InputMetadata, "input", tensor);
        }

        foreach (var name in decoder.InputMetadata.Keys.Where(n => !fed.Exists(f => f.Name == n)))
        {
            errors.Add($"{decoderFile}: input '{name}' is not one this server feeds");
        }

        Expect(errors, kvFile, crossKv.InputMetadata, "input", (x.MediaFeatures, TensorElementType.Float, 0, 0));
        Expect(errors, decoderFile, decoder.OutputMetadata, "output", (spec.Logits, TensorElementType.Float, 0, 0));
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            Expect(errors, decoderFile, decoder.OutputMetadata, "output", (spec.PresentKeyName(layer), TensorElementType.Float, spec.NumKvHeads, spec.HeadDim));
            Expect(errors, decoderFile, decoder.OutputMetadata, "output", (spec.PresentValueName(layer), TensorElementType.Float, spec.NumKvHeads, spec.HeadDim));
        }

        if (errors.Count > 0)
        {
            throw new BundleValidationException(errors);
        }
    }

    /// <summary>The tensor exists with its element type; for a KV tensor (rank 4), its heads on axis 1 and head size on axis 3.</summary>
    private static void Expect(
        List<string> errors, string file, IReadOnlyDictionary<string, NodeMetadata> metadata, string kind, (string Name, TensorElementType Type, int Heads, int Dim) tensor)
    {
        if (!metadata.TryGetValue(tensor.Name, out var meta))
        {
            errors.Add($"{file}: has no {kind} '{tensor.Name}'");
            return;
        }

        if (meta.ElementDataType != tensor.Type)
        {
            errors.Add($"{file}: {kind} '{tensor.Name}' is {meta.ElementDataType}, expected {tensor.Type}");
            return;
        }

        var dims = meta.Dimensions;
        if (tensor.Heads > 0 && (dims.Length != 4 || (dims[1] > 0 && dims[1] != tensor.Heads) || (dims[3] > 0 && dims[3] != tensor.Dim)))
        {
            errors.Add($"{file}: {kind} '{tensor.Name}' has dims [{string.Join(", ", dims)}], expected [batch, {tensor.Heads}, seq, {tensor.Dim}] (manifest)");
        }
    }
}
