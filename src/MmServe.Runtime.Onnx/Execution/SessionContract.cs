using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Checks an ONNX session against what the manifest (or a Hugging Face config.json) says about it, at start-up:
/// tensor names, KV heads and head size, layer count and element types. A mismatch would otherwise surface as
/// an ORT error on the first request, or as garbage.
/// </summary>
internal static class SessionContract
{
    public static void CheckDecoder(ModelBundle bundle, InferenceSession decoder)
    {
        var spec = bundle.Manifest.Decoder;
        var file = bundle.ComponentPath(spec.Component);
        var errors = new List<string>();
        var inputs = decoder.InputMetadata;
        var fed = new HashSet<string>(StringComparer.Ordinal) { spec.AttentionMask, spec.PositionIds };
        RequireFloat(errors, file, inputs, fed, spec.InputIds is null ? spec.InputsEmbeds : null);
        if (spec.InputIds is { } ids)
        {
            Require(errors, file, inputs, ids, "input");
            fed.Add(ids);
        }

        Require(errors, file, inputs, spec.AttentionMask, "input");
        if (inputs.TryGetValue(spec.PositionIds, out var positions))
        {
            CheckPositionDims(errors, bundle, file, spec, positions.Dimensions);
        }

        if (spec.TokenTypeIds is { } tokenTypes)
        {
            // A visual-expert decoder's token_type_ids (CogVLM); the executor feeds it on the concat path.
            Require(errors, file, inputs, tokenTypes, "input");
            fed.Add(tokenTypes);
        }
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            foreach (var name in new[] { spec.PastKeyName(layer), spec.PastValueName(layer) })
            {
                if (RequireFloat(errors, file, inputs, fed, name) is { } meta)
                {
                    CheckKvDims(errors, bundle, file, name, meta.Dimensions);
                }
            }
        }

        if (inputs.ContainsKey(spec.PastKeyName(spec.NumLayers)))
        {
            errors.Add($"{file}: has more layers than {Field(bundle, "num_hidden_layers", "decoder.num_layers")} ({spec.NumLayers})");
        }

        foreach (var name in inputs.Keys.Where(n => !fed.Contains(n)))
        {
            errors.Add($"{file}: input '{name}' is not one this server feeds (it feeds {string.Join(", ", fed.Order(StringComparer.Ordinal).Take(4))}, ...)");
        }

        var outputs = decoder.OutputMetadata;
        if (RequireFloat(errors, file, outputs, null, spec.Logits) is { } logits
            && logits.Dimensions.Length == 3 && logits.Dimensions[2] > 0 && logits.Dimensions[2] != spec.VocabSize)
        {
            errors.Add($"{file}: output '{spec.Logits}' has {logits.Dimensions[2]} columns, but the vocabulary size is {spec.VocabSize} ({Field(bundle, "vocab_size", "decoder.vocab_size")})");
        }

        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            RequireFloat(errors, file, outputs, null, spec.PresentKeyName(layer));
            RequireFloat(errors, file, outputs, null, spec.PresentValueName(layer));
        }

        if (spec.HiddenStates is { } hidden)
        {
            RequireFloat(errors, file, outputs, null, hidden);
        }

        ThrowIfAny(errors);
    }

    public static void CheckEmbedding(ModelBundle bundle, InferenceSession embed)
    {
        var spec = bundle.Manifest.Embedding!;
        var file = bundle.ComponentPath(spec.Component);
        var errors = new List<string>();
        Require(errors, file, embed.InputMetadata, spec.InputIds, "input");
        foreach (var name in spec.EmptyFeatureInputs)
        {
            RequireFloat(errors, file, embed.InputMetadata, null, name);
        }

        if (RequireFloat(errors, file, embed.OutputMetadata, null, spec.InputsEmbeds) is { } output
            && output.Dimensions.Length > 0 && output.Dimensions[^1] > 0 && output.Dimensions[^1] != bundle.Manifest.Decoder.HiddenSize)
        {
            errors.Add($"{file}: output '{spec.InputsEmbeds}' has width {output.Dimensions[^1]}, but {Field(bundle, "hidden_size", "decoder.hidden_size")} is {bundle.Manifest.Decoder.HiddenSize}");
        }

        ThrowIfAny(errors);
    }

    private static void CheckKvDims(List<string> errors, ModelBundle bundle, string file, string name, int[] dims)
    {
        var spec = bundle.Manifest.Decoder;
        if (dims.Length != 4)
        {
            errors.Add($"{file}: input '{name}' has rank {dims.Length}; the KV layout [batch, kv_heads, seq, head_dim] has rank 4");
            return;
        }

        if (dims[1] > 0 && dims[1] != spec.NumKvHeads)
        {
            errors.Add($"{file}: input '{name}' has {dims[1]} KV heads, but {Field(bundle, "num_key_value_heads", "decoder.num_kv_heads")} is {spec.NumKvHeads}");
        }

        if (dims[3] > 0 && dims[3] != spec.HeadDim)
        {
            errors.Add($"{file}: input '{name}' has head size {dims[3]}, but {Field(bundle, "head_dim (or hidden_size / num_attention_heads)", "decoder.head_dim")} is {spec.HeadDim}");
        }
    }

    private static void CheckPositionDims(List<string> errors, ModelBundle bundle, string file, DecoderSpec spec, int[] dims)
    {
        bool mrope = spec.PositionAxes > 1;
        if (dims.Length != (mrope ? 3 : 2) || (mrope && dims[0] > 0 && dims[0] != spec.PositionAxes))
        {
            string expected = mrope ? $"[{spec.PositionAxes}, batch, seq] (M-RoPE, {Field(bundle, "rope_scaling.type mrope", "decoder.position_axes")})" : "[batch, seq]";
            errors.Add($"{file}: input '{spec.PositionIds}' has shape [{string.Join(", ", dims)}]; expected {expected}");
        }
    }

    /// <summary>The field that set a value, as the operator would look for it.</summary>
    private static string Field(ModelBundle bundle, string hfField, string manifestField) =>
        bundle.HuggingFace is null ? $"{bundle.ManifestPath} {manifestField}" : $"{bundle.ManifestPath} {hfField}";

    private static NodeMetadata? Require(List<string> errors, string file, IReadOnlyDictionary<string, NodeMetadata> tensors, string name, string kind)
    {
        if (tensors.TryGetValue(name, out var meta))
        {
            return meta;
        }

        errors.Add($"{file}: has no {kind} '{name}' (it has {string.Join(", ", tensors.Keys.Take(6))}{(tensors.Count > 6 ? ", ..." : "")})");
        return null;
    }

    /// <summary>A float32 tensor; records it as fed when <paramref name="fed"/> is given (inputs).</summary>
    private static NodeMetadata? RequireFloat(List<string> errors, string file, IReadOnlyDictionary<string, NodeMetadata> tensors, HashSet<string>? fed, string? name)
    {
        if (name is null)
        {
            return null;
        }

        fed?.Add(name);
        var meta = Require(errors, file, tensors, name, fed is null ? "output" : "input");
        if (meta is not null && meta.ElementDataType != TensorElementType.Float)
        {
            errors.Add(meta.ElementDataType == TensorElementType.Float16
                ? $"{file}: '{name}' is float16; this server runs float32 inputs and outputs (choose Dtype fp32, q8 or q4, whose files keep float32 I/O)"
                : $"{file}: '{name}' is {meta.ElementDataType.ToString().ToLower(CultureInfo.InvariantCulture)}, expected float32");
            return null;
        }

        return meta;
    }

    private static void ThrowIfAny(List<string> errors)
    {
        if (errors.Count > 0)
        {
            throw new BundleValidationException(errors);
        }
    }
}
