using System.Globalization;

namespace MmServe.Runtime.Onnx.EncoderDecoder;

/// <summary>
/// The shape of a merged seq2seq decoder in the Optimum / transformers.js layout (<c>decoder_model_merged.onnx</c>):
/// inputs <c>input_ids</c>, <c>encoder_hidden_states</c>, <c>past_key_values.{i}.decoder|encoder.key|value</c>,
/// <c>use_cache_branch</c>; outputs <c>logits</c> and <c>present.{i}.decoder|encoder.key|value</c>, KV as
/// [batch, heads, length, head_dim]. No decoder attention mask and no position input: positions are the past length.
/// Florence-2's decoder (BART-style) takes <c>inputs_embeds</c> from a separate embed_tokens session instead of
/// <c>input_ids</c>, and an <c>encoder_attention_mask</c> (<see cref="TakesInputsEmbeds"/>, <see cref="TakesEncoderAttentionMask"/>).
/// </summary>
/// <param name="Layers">Decoder layers.</param>
/// <param name="Heads">Attention heads (self and cross).</param>
/// <param name="HeadDim">Width of one head.</param>
/// <param name="VocabSize">Columns of logits.</param>
/// <param name="EncoderWidth">Width of encoder_hidden_states (d_model).</param>
/// <param name="MaxTargetPositions">Decoder positions (Whisper: 448), the context window of a sequence.</param>
public sealed record Seq2SeqDecoderSpec(int Layers, int Heads, int HeadDim, int VocabSize, int EncoderWidth, int MaxTargetPositions)
{
    public const string InputIds = "input_ids";
    public const string EncoderHiddenStates = "encoder_hidden_states";
    public const string UseCacheBranch = "use_cache_branch";
    public const string Logits = "logits";
    public const string InputsEmbeds = "inputs_embeds";
    public const string EncoderAttentionMask = "encoder_attention_mask";

    /// <summary>The decoder takes <c>inputs_embeds</c> [batch, tokens, EncoderWidth] (embed_tokens of the ids), not <c>input_ids</c>.</summary>
    public bool TakesInputsEmbeds { get; init; }

    /// <summary>The decoder takes <c>encoder_attention_mask</c> int64 [batch, encoder length] (all ones here: no padding).</summary>
    public bool TakesEncoderAttentionMask { get; init; }

    /// <summary>The name of the token input: <c>inputs_embeds</c> or <c>input_ids</c>.</summary>
    public string TokenInput => TakesInputsEmbeds ? InputsEmbeds : InputIds;

    public static string Past(int layer, bool cross, bool value) =>
        string.Create(CultureInfo.InvariantCulture, $"past_key_values.{layer}.{(cross ? "encoder" : "decoder")}.{(value ? "value" : "key")}");

    public static string Present(int layer, bool cross, bool value) =>
        string.Create(CultureInfo.InvariantCulture, $"present.{layer}.{(cross ? "encoder" : "decoder")}.{(value ? "value" : "key")}");

    /// <summary>KV tensors per layer: self key, self value, cross key, cross value.</summary>
    public const int TensorsPerLayer = 4;

    /// <summary>Index of a layer's tensor in a sequence's KV arrays.</summary>
    public static int Slot(int layer, bool cross, bool value) => (layer * TensorsPerLayer) + (cross ? 2 : 0) + (value ? 1 : 0);
}
