using MmServe.Model.Bundle;
using MmServe.Model.HuggingFace;
using MmServe.Model.Tokenization;

namespace MmServe.Model.GenAi;

/// <summary>
/// Loads an ONNX Runtime GenAI model folder (genai_config.json + a decoder taking input_ids + tokenizer.json /
/// tokenizer_config.json, what ORT GenAI's model builder writes for Llama, Qwen2, Phi-3 and plain decoders) as a
/// <see cref="ModelBundle"/> whose manifest is synthesized from genai_config.json, so the rest of the server serves
/// it like any bundle. Prompts are built as for a Hugging Face text LLM export: the folder's Jinja chat template,
/// tokenized without the tokenizer's post-processor specials. Every problem is a <see cref="BundleValidationException"/>
/// naming the file and field.
/// </summary>
public static class GenAiFolderLoader
{
    public const string FormatOrtGenAi = "ort-genai";

    /// <summary>A folder is an ORT GenAI folder when it has genai_config.json and no manifest.json.</summary>
    public static bool IsGenAiFolder(string folder) =>
        File.Exists(Path.Combine(folder, GenAiConfig.FileName)) && !File.Exists(Path.Combine(folder, BundleLoader.ManifestFileName));

    /// <param name="folder">The folder as configured (messages name files under it as given).</param>
    public static (ModelBundle Bundle, ByteLevelBpeTokenizer Tokenizer) Load(string folder)
    {
        var json = HfJson.Read(folder, GenAiConfig.FileName, required: true)!;
        var config = GenAiConfig.Read(json);
        var decoderPath = Path.Combine(folder, config.DecoderFile);
        if (!File.Exists(decoderPath))
        {
            throw json.Error("model.decoder.filename", $"'{config.DecoderFile}': {decoderPath} does not exist");
        }

        var (tokenizer, tokenizerPath) = HfTokenizerFiles.LoadTokenizer(folder);
        var (tokenizerConfig, template) = HfTokenizerFiles.LoadChatTemplate(folder);
        if (config.EosTokenIds.Count == 0)
        {
            throw json.Error("model.eos_token_id", "is required: generation could never stop");
        }

        var eosTokens = config.EosTokenIds.Select(id => HfTokenizerFiles.TokenOf(tokenizer, id, json, "model.eos_token_id")).ToList();
        var padToken = config.PadTokenId is { } pad ? HfTokenizerFiles.TokenOf(tokenizer, pad, json, "model.pad_token_id") : null;
        if (config.BosTokenId is { } bos && bos >= 0)
        {
            // Checked, not prepended: as with transformers' apply_chat_template, the template writes BOS where the model wants one.
            HfTokenizerFiles.TokenOf(tokenizer, bos, json, "model.bos_token_id");
        }

        var io = config.Io;
        var manifest = new BundleManifest
        {
            Format = FormatOrtGenAi,
            Id = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))),
            Description = $"ONNX Runtime GenAI model folder (type {config.Type})",
            MaxContext = config.MaxTotalLength,
            Tokenizer = new TokenizerSpec { File = HfTokenizerFiles.TokenizerFileName, EosTokens = eosTokens, PadToken = padToken },

            // Unused: prompts come from the Jinja template (HfModelInfo.ChatTemplate), as for Hugging Face exports.
            ChatTemplate = new ChatTemplateSpec { File = tokenizerConfig.ChatTemplateSource, MessageFormat = "", GenerationPrompt = "", PartSeparator = "" },
            Components = new Dictionary<string, ComponentSpec>(StringComparer.Ordinal) { ["decoder"] = new() { File = config.DecoderFile } },
            Embedding = null,
            Decoder = new DecoderSpec
            {
                Component = "decoder",
                HiddenSize = config.HiddenSize,
                NumLayers = config.NumLayers,
                NumAttentionHeads = config.NumAttentionHeads,
                NumKvHeads = config.NumKvHeads,
                HeadDim = config.HeadSize,
                VocabSize = Math.Max(config.VocabSize, tokenizer.VocabSize),
                InputIds = io.InputIds,
                InputsEmbeds = "inputs_embeds",
                AttentionMask = io.AttentionMask,
                PositionIds = io.PositionIds,
                PastKey = io.PastKey,
                PastValue = io.PastValue,
                PresentKey = io.PresentKey,
                PresentValue = io.PresentValue,
                Logits = io.Logits,
                KvLayout = DecoderSpec.KvLayoutBatchHeadsSeqDim,
                KvBuffer = config.Search.PastPresentShareBuffer ? DecoderSpec.KvBufferShared : null,
            },
        };

        // The same prompt rules as a Hugging Face text LLM of that type; "decoder" (the generic type) gets them too.
        var architecture = HfArchitecture.Supported.TryGetValue(config.Type, out var known) ? known : HfArchitecture.TextLlm(config.Type);
        var hfConfig = new HfModelConfig(
            config.Type, [], config.HiddenSize, config.NumLayers, config.NumAttentionHeads, config.NumKvHeads, config.HeadSize,
            config.VocabSize, config.ContextLength, ImageTokenIndex: null, config.EosTokenIds, config.BosTokenId);
        var directory = Path.GetFullPath(folder);
        var bundle = new ModelBundle(
            directory,
            Path.Combine(directory, GenAiConfig.FileName),
            manifest,
            Path.GetFullPath(tokenizerPath),
            Path.GetFullPath(tokenizerConfig.ChatTemplateSource),
            new Dictionary<string, string>(StringComparer.Ordinal) { ["decoder"] = Path.GetFullPath(decoderPath) })
        {
            HuggingFace = new HfModelInfo(architecture, hfConfig, template, tokenizerConfig.SpecialTokens, HfDtype.Default),
            GenAi = config,
            SamplingDefaults = config.Search.SamplingDefaults(json),
        };
        return (bundle, tokenizer);
    }
}
