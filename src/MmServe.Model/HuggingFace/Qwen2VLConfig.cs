using System.Globalization;
using System.Text.Json;
using MmServe.Model.Bundle;
using MmServe.Model.Tokenization;

namespace MmServe.Model.HuggingFace;

/// <summary>
/// What a Qwen2-VL config.json adds to a text LLM's: the vision token ids (the processor expands
/// &lt;|image_pad|&gt; / &lt;|video_pad|&gt; between &lt;|vision_start|&gt; and &lt;|vision_end|&gt;), the vision tower's
/// spatial merge size (patches per LLM token = merge²) and M-RoPE's mrope_section (rotary pairs per position stream).
/// </summary>
public sealed record Qwen2VLConfig(
    string ImageToken,
    int ImageTokenId,
    string VideoToken,
    int VideoTokenId,
    int VisionStartTokenId,
    int VisionEndTokenId,
    int SpatialMergeSize,
    IReadOnlyList<int> MropeSection)
{
    internal static Qwen2VLConfig Read(HfJson json, ByteLevelBpeTokenizer tokenizer)
    {
        var root = json.Root;
        var text = HfJson.Property(root, "text_config") is { ValueKind: JsonValueKind.Object } nested ? nested : root;
        int image = TokenId(json, root, text, "image_token_id", tokenizer, "<|image_pad|>");
        int video = TokenId(json, root, text, "video_token_id", tokenizer, "<|video_pad|>");
        int start = TokenId(json, root, text, "vision_start_token_id", tokenizer, "<|vision_start|>");
        int end = TokenId(json, root, text, "vision_end_token_id", tokenizer, "<|vision_end|>");
        int merge = HfJson.Property(root, "vision_config") is { ValueKind: JsonValueKind.Object } vision
            ? json.Int(vision, "spatial_merge_size", "vision_config.spatial_merge_size") ?? 2
            : 2;
        if (merge is < 1 or > 8)
        {
            throw json.Error("vision_config.spatial_merge_size", $"must be in 1..8 (got {merge.ToString(CultureInfo.InvariantCulture)})");
        }

        var rope = HfJson.Property(text, "rope_scaling") ?? HfJson.Property(root, "rope_scaling");
        if (rope is not { ValueKind: JsonValueKind.Object } scaling || HfJson.Property(scaling, "mrope_section") is not { ValueKind: JsonValueKind.Array })
        {
            throw json.Error("rope_scaling.mrope_section", "is required for qwen2_vl (M-RoPE: rotary pairs per temporal, height and width stream)");
        }

        var section = json.IntOrList(scaling, "mrope_section", "rope_scaling.mrope_section");
        if (section.Count != Qwen2VLRopeIndex.Axes || section.Any(n => n <= 0))
        {
            throw json.Error("rope_scaling.mrope_section", $"must be {Qwen2VLRopeIndex.Axes} positive integers (got [{string.Join(", ", section)}])");
        }

        return new Qwen2VLConfig(
            tokenizer.IdToToken(image), image, tokenizer.IdToToken(video), video, start, end, merge, section);
    }

    /// <summary>The id from config.json (top level, or text_config in newer files); else the token's id in tokenizer.json.</summary>
    private static int TokenId(HfJson json, JsonElement root, JsonElement text, string field, ByteLevelBpeTokenizer tokenizer, string token)
    {
        int? id = json.Int(root, field, field) ?? json.Int(text, field, "text_config." + field) ?? tokenizer.TokenToId(token);
        if (id is not { } value)
        {
            throw json.Error(field, $"is required (and tokenizer.json has no '{token}')");
        }

        if (value < 0 || value >= tokenizer.VocabSize || tokenizer.IdToToken(value) is not { Length: > 0 })
        {
            throw json.Error(field, $"{value.ToString(CultureInfo.InvariantCulture)} is not a token id of tokenizer.json");
        }

        return value;
    }
}
