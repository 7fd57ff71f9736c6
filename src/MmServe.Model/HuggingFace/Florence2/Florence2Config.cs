using MmServe.Model.Bundle;

namespace MmServe.Model.HuggingFace.Florence2;

/// <summary>
/// What serving a <c>model_type</c> "florence2" ONNX export needs from config.json (its <c>text_config</c>, the
/// BART-style language model), generation_config.json and preprocessor_config.json (the task prompt tables). The
/// onnx-community layout: onnx/vision_encoder, embed_tokens, encoder_model and decoder_model_merged.
/// Every problem is a <see cref="BundleValidationException"/> naming the file and the field.
/// </summary>
/// <param name="DModel">text_config d_model: width of embeddings, encoder output and KV.</param>
/// <param name="DecoderLayers">text_config decoder_layers.</param>
/// <param name="DecoderHeads">text_config decoder_attention_heads (head_dim = d_model / heads).</param>
/// <param name="VocabSize">text_config vocab_size (logits columns).</param>
/// <param name="MaxPositions">text_config max_position_embeddings: the decoder's (and the encoder's) positions.</param>
/// <param name="Generation">Start, end and forced tokens.</param>
/// <param name="Prompts">The task prompt tables of preprocessor_config.json.</param>
public sealed record Florence2Config(
    int DModel,
    int DecoderLayers,
    int DecoderHeads,
    int VocabSize,
    int MaxPositions,
    Florence2GenerationConfig Generation,
    Florence2TaskPrompts Prompts)
{
    public const string ModelType = "florence2";
    public const string VisionFile = "vision_encoder";
    public const string EmbedFile = "embed_tokens";
    public const string EncoderFile = "encoder_model";
    public const string DecoderFile = "decoder_model_merged";

    public int HeadDim => DModel / DecoderHeads;

    public static Florence2Config Load(string folder)
    {
        var config = HfJson.Read(folder, HfModelConfig.FileName, required: true)!;
        var root = config.Root;
        if (config.String(root, "model_type", "model_type") != ModelType)
        {
            throw config.Error("model_type", $"must be '{ModelType}'");
        }

        if (HfJson.Property(root, "text_config") is not { ValueKind: System.Text.Json.JsonValueKind.Object } text)
        {
            throw config.Error("text_config", "is required (the language model's sizes)");
        }

        int dModel = config.RequiredPositive(text, "d_model", "text_config.d_model");
        int heads = config.RequiredPositive(text, "decoder_attention_heads", "text_config.decoder_attention_heads");
        if (dModel % heads != 0)
        {
            throw config.Error("text_config.d_model", $"({dModel}) is not a multiple of text_config.decoder_attention_heads ({heads})");
        }

        int vocab = config.RequiredPositive(text, "vocab_size", "text_config.vocab_size");
        return new Florence2Config(
            dModel,
            config.RequiredPositive(text, "decoder_layers", "text_config.decoder_layers"),
            heads,
            vocab,
            config.RequiredPositive(text, "max_position_embeddings", "text_config.max_position_embeddings"),
            Florence2GenerationConfig.Read(folder, config, text, vocab),
            Florence2TaskPrompts.Read(folder));
    }
}

/// <summary>
/// The decoding rules transformers.js 4.3.1 applies for Florence-2 greedy decoding: generation_config.json over
/// config.json's text_config (its <c>_prepare_generation_config</c> order). The decoder starts from
/// <see cref="DecoderStartTokenId"/>; <see cref="ForcedBosTokenId"/> is the only token allowed first
/// (ForcedBOSTokenLogitsProcessor); generation ends at <see cref="EosTokenId"/>; no n-gram of
/// <see cref="NoRepeatNgramSize"/> tokens repeats (NoRepeatNGramLogitsProcessor; 0 = off; the real Florence-2 exports set 3).
/// </summary>
public sealed record Florence2GenerationConfig(int DecoderStartTokenId, int EosTokenId, int? ForcedBosTokenId)
{
    public int NoRepeatNgramSize { get; init; }

    public const string FileName = "generation_config.json";

    internal static Florence2GenerationConfig Read(string folder, HfJson config, System.Text.Json.JsonElement text, int vocab)
    {
        var generation = HfJson.Read(folder, FileName, required: false);

        // generation_config.json wins; text_config, then config.json's top level, fill what it leaves out.
        int? Find(string field)
        {
            if (generation?.Int(generation.Root, field, field) is int fromGeneration)
            {
                return Check(fromGeneration, generation, field);
            }

            if (config.Int(text, field, $"text_config.{field}") is int fromText)
            {
                return Check(fromText, config, $"text_config.{field}");
            }

            return config.Int(config.Root, field, field) is int fromRoot ? Check(fromRoot, config, field) : null;
        }

        int Check(int id, HfJson source, string field) =>
            (uint)id < (uint)vocab ? id : throw source.Error(field, $"({id}) is outside the vocabulary of {vocab}");

        int eos = Find("eos_token_id") ?? throw config.Error("eos_token_id", "is required (in generation_config.json or config.json)");
        int noRepeat = generation?.Int(generation.Root, "no_repeat_ngram_size", "no_repeat_ngram_size")
            ?? config.Int(text, "no_repeat_ngram_size", "text_config.no_repeat_ngram_size")
            ?? config.Int(config.Root, "no_repeat_ngram_size", "no_repeat_ngram_size")
            ?? 0;
        if (noRepeat < 0)
        {
            throw (generation ?? config).Error("no_repeat_ngram_size", $"({noRepeat}) must be 0 (off) or more");
        }

        return new Florence2GenerationConfig(Find("decoder_start_token_id") ?? eos, eos, Find("forced_bos_token_id")) { NoRepeatNgramSize = noRepeat };
    }
}
