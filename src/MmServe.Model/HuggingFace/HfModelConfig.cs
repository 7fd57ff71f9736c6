using System.Text.Json;
using MmServe.Model.Bundle;

namespace MmServe.Model.HuggingFace;

/// <summary>
/// The fields of config.json the server needs, normalized as transformers.js' getNormalizedConfig does: a vision
/// model's language dimensions come from its "text_config"; num_key_value_heads defaults to num_attention_heads and
/// head_dim to hidden_size / num_attention_heads.
/// </summary>
public sealed record HfModelConfig(
    string ModelType,
    IReadOnlyList<string> Architectures,
    int HiddenSize,
    int NumLayers,
    int NumAttentionHeads,
    int NumKvHeads,
    int HeadDim,
    int VocabSize,
    int MaxPositionEmbeddings,
    int? ImageTokenIndex,
    IReadOnlyList<int> EosTokenIds,
    int? BosTokenId)
{
    public const string FileName = "config.json";

    internal static HfModelConfig Read(HfJson json)
    {
        var root = json.Root;
        var modelType = json.String(root, "model_type", "model_type") ?? throw json.Error("model_type", "is required");
        var architectures = HfJson.Property(root, "architectures") is { ValueKind: JsonValueKind.Array } list
            ? list.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!).ToList()
            : [];

        // Vision-language configs nest the language model's; text LLMs keep it at the top.
        var (text, prefix) = HfJson.Property(root, "text_config") is { ValueKind: JsonValueKind.Object } nested
            ? (nested, "text_config.")
            : (root, "");
        int hidden = json.RequiredPositive(text, "hidden_size", prefix + "hidden_size");
        int heads = json.RequiredPositive(text, "num_attention_heads", prefix + "num_attention_heads");
        int kvHeads = json.Int(text, "num_key_value_heads", prefix + "num_key_value_heads") ?? heads;
        if (kvHeads <= 0 || heads % kvHeads != 0)
        {
            throw json.Error(prefix + "num_key_value_heads", $"must divide num_attention_heads ({heads}) (got {kvHeads})");
        }

        int headDim = json.Int(text, "head_dim", prefix + "head_dim") ?? (hidden % heads == 0
            ? hidden / heads
            : throw json.Error(prefix + "hidden_size", $"({hidden}) is not a multiple of num_attention_heads ({heads}) and head_dim is absent"));
        return new HfModelConfig(
            modelType,
            architectures,
            hidden,
            json.RequiredPositive(text, "num_hidden_layers", prefix + "num_hidden_layers"),
            heads,
            kvHeads,
            headDim,
            json.RequiredPositive(text, "vocab_size", prefix + "vocab_size"),
            json.Int(text, "max_position_embeddings", prefix + "max_position_embeddings") ?? 2048,
            json.Int(root, "image_token_index", "image_token_index") ?? json.Int(root, "image_token_id", "image_token_id"),
            json.IntOrList(root, "eos_token_id", "eos_token_id") is { Count: > 0 } eos ? eos : json.IntOrList(text, "eos_token_id", prefix + "eos_token_id"),
            json.Int(root, "bos_token_id", "bos_token_id") ?? json.Int(text, "bos_token_id", prefix + "bos_token_id"));
    }
}
