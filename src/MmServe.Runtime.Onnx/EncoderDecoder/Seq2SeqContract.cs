using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.EncoderDecoder;

/// <summary>
/// Checks a merged seq2seq decoder session against config.json at start-up: every input and output this server
/// feeds and reads exists, with float KV of the configured heads and head size, and nothing else is required.
/// </summary>
internal static class Seq2SeqContract
{
    public static void Check(InferenceSession decoder, Seq2SeqDecoderSpec spec)
    {
        var errors = new List<string>();
        var inputs = decoder.InputMetadata;
        var outputs = decoder.OutputMetadata;
        var fed = new HashSet<string>(StringComparer.Ordinal)
        {
            spec.TokenInput, Seq2SeqDecoderSpec.EncoderHiddenStates, Seq2SeqDecoderSpec.UseCacheBranch,
        };
        if (spec.TakesInputsEmbeds)
        {
            Expect(errors, inputs, Seq2SeqDecoderSpec.InputsEmbeds, TensorElementType.Float, "input", (2, spec.EncoderWidth));
        }
        else
        {
            Expect(errors, inputs, Seq2SeqDecoderSpec.InputIds, TensorElementType.Int64, "input");
        }

        if (spec.TakesEncoderAttentionMask)
        {
            fed.Add(Seq2SeqDecoderSpec.EncoderAttentionMask);
            Expect(errors, inputs, Seq2SeqDecoderSpec.EncoderAttentionMask, TensorElementType.Int64, "input");
        }

        Expect(errors, inputs, Seq2SeqDecoderSpec.EncoderHiddenStates, TensorElementType.Float, "input", (2, spec.EncoderWidth));
        Expect(errors, inputs, Seq2SeqDecoderSpec.UseCacheBranch, TensorElementType.Bool, "input");
        Expect(errors, outputs, Seq2SeqDecoderSpec.Logits, TensorElementType.Float, "output", (2, spec.VocabSize));
        for (int layer = 0; layer < spec.Layers; layer++)
        {
            foreach (bool cross in (bool[])[false, true])
            {
                foreach (bool value in (bool[])[false, true])
                {
                    var past = Seq2SeqDecoderSpec.Past(layer, cross, value);
                    fed.Add(past);
                    Expect(errors, inputs, past, TensorElementType.Float, "input", (1, spec.Heads), (3, spec.HeadDim));
                    Expect(errors, outputs, Seq2SeqDecoderSpec.Present(layer, cross, value), TensorElementType.Float, "output", (1, spec.Heads), (3, spec.HeadDim));
                }
            }
        }

        if (inputs.ContainsKey(Seq2SeqDecoderSpec.Past(spec.Layers, false, false)))
        {
            errors.Add($"has more decoder layers than config.json decoder_layers ({spec.Layers})");
        }

        foreach (var name in inputs.Keys.Where(n => !fed.Contains(n)))
        {
            errors.Add($"input '{name}' is not one this server feeds");
        }

        if (errors.Count > 0)
        {
            throw new BundleValidationException($"decoder_model_merged.onnx: {string.Join("; ", errors)}");
        }
    }

    private static void Expect(
        List<string> errors, IReadOnlyDictionary<string, NodeMetadata> metadata, string name, TensorElementType type, string kind,
        params (int Axis, int Size)[] dims)
    {
        if (!metadata.TryGetValue(name, out var meta))
        {
            errors.Add($"{kind} '{name}' is missing");
            return;
        }

        if (meta.ElementDataType != type)
        {
            errors.Add($"{kind} '{name}' is {meta.ElementDataType}, expected {type}");
            return;
        }

        foreach (var (axis, size) in dims)
        {
            if (meta.Dimensions.Length <= axis || (meta.Dimensions[axis] > 0 && meta.Dimensions[axis] != size))
            {
                errors.Add($"{kind} '{name}' has dims [{string.Join(", ", meta.Dimensions)}], expected {size} on axis {axis} (config.json)");
            }
        }
    }
}
