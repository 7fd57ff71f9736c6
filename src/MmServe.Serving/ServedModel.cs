using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using MmServe.Model.Bundle;
using MmServe.Model.Chat;
using MmServe.Model.GenAi;
using MmServe.Model.HuggingFace;
using MmServe.Model.Tokenization;
using MmServe.Serving.Structured;
using MmServe.Serving.Tools;

namespace MmServe.Serving;

/// <summary>
/// The loaded bundle (or Hugging Face export, see <see cref="HfFolderLoader"/>, or ONNX Runtime GenAI folder, see
/// <see cref="GenAiFolderLoader"/>) and everything derived from it that requests share: tokenizer, prompt builder, the id the
/// model is served under. Loading throws <see cref="BundleValidationException"/> for a malformed bundle, which
/// fails the host's start (see <see cref="ModelStartupService"/>).
/// </summary>
public sealed class ServedModel
{
    public const string ImageModality = "image";
    public const string AudioModality = "audio";
    public const string VideoModality = "video";

    public ServedModel(IOptions<ModelOptions> options, IHostEnvironment environment)
        : this(options.Value.Path, options.Value.Id, environment.ContentRootPath, "Model:Path", options.Value.Dtype, options.Value.DecoderVariant, options.Value.ToolCallFormat,
            options.Value.GenerationConfig)
    {
    }

    /// <param name="configuredPath">The bundle folder as configured (resolved like Model:Path).</param>
    /// <param name="id">The id to serve it under; null for the manifest's.</param>
    /// <param name="contentRoot">The host's content root.</param>
    /// <param name="key">The configuration key named when the folder is missing.</param>
    /// <param name="dtype">A Hugging Face export's ONNX variant (Model:Dtype); null for fp32.</param>
    /// <param name="decoderVariant">An MmServe bundle's decoder variant (Model:DecoderVariant); null for its decoder.</param>
    /// <param name="toolCallFormat">Model:ToolCallFormat; null to recognise it from the chat template.</param>
    /// <param name="generationConfig">Model:GenerationConfig; null or "auto" to apply the folder's sampling defaults.</param>
    public ServedModel(
        string? configuredPath, string? id, string contentRoot, string key, string? dtype = null, string? decoderVariant = null, string? toolCallFormat = null,
        string? generationConfig = null)
    {
        var path = ModelPathResolver.Resolve(configuredPath, contentRoot)
            ?? throw new BundleValidationException($"{key} '{configuredPath}' was not found (a folder with manifest.json, a Hugging Face export with config.json, or an ONNX Runtime GenAI folder with genai_config.json).");
        if (decoderVariant is not null && !File.Exists(Path.Combine(path, BundleLoader.ManifestFileName)))
        {
            // An exported folder has one decoder; its KV form comes from its own config (genai_config.json's search).
            var kind = GenAiFolderLoader.IsGenAiFolder(path) ? "an ONNX Runtime GenAI folder" : "a Hugging Face export";
            throw new BundleValidationException($"{key[..key.LastIndexOf(':')]}:DecoderVariant '{decoderVariant}' applies to MmServe bundles only; {configuredPath} is {kind}.");
        }

        if (GenAiFolderLoader.IsGenAiFolder(path))
        {
            // Checked before config.json: a GenAI folder may carry the original model's config.json beside its own.
            (Bundle, Tokenizer) = GenAiFolderLoader.Load(path);
            Prompts = new JinjaPromptBuilder(Bundle.HuggingFace!, Tokenizer, Tokenizer.PostProcessor, imageToken: null, tokensPerImage: 0);
        }
        else if (HfFolderLoader.IsHfFolder(path))
        {
            (Bundle, Tokenizer) = HfFolderLoader.Load(path, dtype);
            var image = Bundle.Manifest.InputModalities.GetValueOrDefault(ImageModality);
            var video = Bundle.HuggingFace!.Qwen2VL is null ? null : Bundle.Manifest.InputModalities.GetValueOrDefault(VideoModality);
            Prompts = new JinjaPromptBuilder(
                Bundle.HuggingFace!, Tokenizer, Tokenizer.PostProcessor, image?.PlaceholderToken, image?.TokensPerItem ?? 0, videoToken: video?.PlaceholderToken,
                audioToken: Bundle.HuggingFace!.Ultravox?.Placeholder);
        }
        else
        {
            string variantKey = $"{key[..key.LastIndexOf(':')]}:DecoderVariant";
            Bundle = BundleLoader.Load(path, decoderVariant == ModelOptions.ManifestDecoder ? null : decoderVariant, variantKey);
            if (decoderVariant is null && Bundle.Manifest.DecoderVariants.FirstOrDefault(v => v.Value.KvBuffer == DecoderSpec.KvBufferShared).Key is { } shared)
            {
                _cpuBundle = BundleLoader.Load(path, shared);
            }

            Tokenizer = BundleLoader.LoadTokenizer(Bundle);
            Prompts = PromptBuilder.FromBundle(Bundle, Tokenizer);
        }

        int[] eos = [.. Bundle.Manifest.Tokenizer.EosTokens.Select(t => Tokenizer.TokenToId(t)!.Value)];
        TextDecoder = new TokenTextDecoder(Tokenizer, eos);
        Constraints = new ConstraintCache(Tokenizer, eos);
        ToolCallFormat = ToolCallFormats.Resolve(toolCallFormat, Prompts.TemplateSource);
        SamplingDefaults = generationConfig == ModelOptions.GenerationConfigOpenAi ? SamplingDefaults.None : Bundle.SamplingDefaults;
        Id = id ?? Bundle.Manifest.Id;
        Created = new DateTimeOffset(File.GetLastWriteTimeUtc(Bundle.ManifestPath)).ToUnixTimeSeconds();
        SystemFingerprint = "fp_" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Bundle.ManifestPath)))[..10];
    }

    public ModelBundle Bundle { get; }

    /// <summary>
    /// The bundle CPU workers run: with Model:DecoderVariant unset, the manifest's shared-KV-buffer decoder variant when
    /// it has one (GroupQueryAttention writing one buffer in place, the fastest form on ONNX Runtime's CPU provider,
    /// which CUDA workers cannot run in fp32), else <see cref="Bundle"/>. Only the decoder differs between the two.
    /// </summary>
    public ModelBundle CpuBundle => _cpuBundle ?? Bundle;

    private readonly ModelBundle? _cpuBundle;

    public ByteLevelBpeTokenizer Tokenizer { get; }

    public IPromptBuilder Prompts { get; }

    public TokenTextDecoder TextDecoder { get; }

    /// <summary>Structured-output grammars compiled against this model's tokenizer.</summary>
    public ConstraintCache Constraints { get; }

    /// <summary>How this model writes tool calls (configured, or recognised from its chat template).</summary>
    public ToolCallFormat ToolCallFormat { get; }

    /// <summary>What request fields left unset take before OpenAI's defaults (the folder's, unless Model:GenerationConfig is "openai").</summary>
    public SamplingDefaults SamplingDefaults { get; }

    /// <summary>The "model" value clients must send.</summary>
    public string Id { get; }

    /// <summary>Unix seconds of the manifest's last change (OpenAI's model "created").</summary>
    public long Created { get; }

    /// <summary>Changes whenever the manifest does, so clients can tell model versions apart.</summary>
    public string SystemFingerprint { get; }

    public int MaxContext => Bundle.Manifest.MaxContext;
}
