using System.Globalization;

namespace MmServe.Model.Bundle;

/// <summary>manifest.json "embedding": the component that turns token ids into input embeddings.</summary>
public sealed record EmbeddingSpec
{
    public required string Component { get; init; }
    public required string InputIds { get; init; }
    public required string InputsEmbeds { get; init; }

    /// <summary>
    /// Feature inputs fed as empty [0, hidden] tensors, e.g. Phi-3-V's prepare_inputs_embeds "image_features": the
    /// server splices media embeddings itself, so the component only ever embeds token ids.
    /// </summary>
    public IReadOnlyList<string> EmptyFeatureInputs { get; init => field = value ?? []; } = [];
}

/// <summary>manifest.json "decoder_variants" entry: another ONNX form of the decoder, with the same tensors.</summary>
public sealed record DecoderVariantSpec
{
    public required string Component { get; init; }

    /// <summary>"concat" (default) or "shared", as <see cref="DecoderSpec.KvBuffer"/>.</summary>
    public string? KvBuffer { get; init; }
}

/// <summary>manifest.json "decoder": the language model's dimensions and its ONNX tensor names.</summary>
public sealed partial record DecoderSpec
{
    /// <summary>The value of <see cref="KvLayout"/> the runtime implements.</summary>
    public const string KvLayoutBatchHeadsSeqDim = "batch,kv_heads,seq,head_dim";

    /// <summary>Replaced by the layer index in the past/present tensor name patterns.</summary>
    public const string LayerPlaceholder = "{layer}";

    public required string Component { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }

    /// <summary>Width of the logits; may exceed the tokenizer's id count (padded embedding tables).</summary>
    public required int VocabSize { get; init; }

    public required string InputsEmbeds { get; init; }

    /// <summary>
    /// Set when the decoder embeds tokens itself (a Hugging Face text LLM's model.onnx takes "input_ids"): then
    /// the manifest has no embedding component and <see cref="InputsEmbeds"/> is unused.
    /// </summary>
    public string? InputIds { get; init; }

    public required string AttentionMask { get; init; }
    public required string PositionIds { get; init; }

    /// <summary>
    /// Position streams <see cref="PositionIds"/> carries: 1 ([batch, seq]), or 3 for Qwen2-VL's M-RoPE ([3, batch,
    /// seq], from each sequence's <c>SequencePositions</c>; sequences without them get the token index on every axis).
    /// </summary>
    /// <remarks>Source-generated JSON passes 0 for a manifest without the field: that means 1.</remarks>
    public int PositionAxes { get; init => field = value == 0 ? 1 : value; } = 1;
    public required string PastKey { get; init; }
    public required string PastValue { get; init; }
    public required string Logits { get; init; }

    /// <summary>Final hidden states output, needed by output-modality projectors; optional.</summary>
    public string? HiddenStates { get; init; }

    public required string PresentKey { get; init; }
    public required string PresentValue { get; init; }
    public required string KvLayout { get; init; }

    /// <summary>The value of <see cref="KvBuffer"/> for a decoder whose past and present are one buffer.</summary>
    public const string KvBufferShared = "shared";

    /// <summary>The value of <see cref="KvBuffer"/> for a decoder that concatenates past and new KV into present (the default).</summary>
    public const string KvBufferConcat = "concat";

    /// <summary>
    /// How the decoder treats its KV tensors: "concat" (default; present = past ++ new, [batch, kv_heads, total, head_dim])
    /// or "shared" (com.microsoft.GroupQueryAttention with past_present_share_buffer: past and present are bound to one
    /// [batch, kv_heads, max_context, head_dim] buffer that ORT writes in place at each row's own length, taken from
    /// attention_mask; ORT GenAI's model builder exports decoders this way).
    /// </summary>
    public string? KvBuffer { get; init; }

    /// <summary>True when past and present share one max-length buffer (<see cref="KvBufferShared"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool SharesKvBuffer => KvBuffer == KvBufferShared;

    public string PastKeyName(int layer) => ForLayer(PastKey, layer);
    public string PastValueName(int layer) => ForLayer(PastValue, layer);
    public string PresentKeyName(int layer) => ForLayer(PresentKey, layer);
    public string PresentValueName(int layer) => ForLayer(PresentValue, layer);

    /// <summary>Appends every layer's past key and value names to <paramref name="inputs"/> and present names to <paramref name="outputs"/>, layer by layer.</summary>
    public void AddKvNames(List<string> inputs, List<string> outputs)
    {
        for (int layer = 0; layer < NumLayers; layer++)
        {
            inputs.Add(PastKeyName(layer));
            inputs.Add(PastValueName(layer));
            outputs.Add(PresentKeyName(layer));
            outputs.Add(PresentValueName(layer));
        }
    }

    private static string ForLayer(string pattern, int layer) =>
        pattern.Replace(LayerPlaceholder, layer.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
