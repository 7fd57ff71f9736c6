namespace MmServe.Serving;

/// <summary>Configuration section "Model": which bundle to serve and under which id.</summary>
public sealed class ModelOptions
{
    public const string SectionName = "Model";

    /// <summary>
    /// The bundle folder. Relative paths are tried against the content root, the working directory and their
    /// parents; when unset, the first models/mmserve-tiny found that way (or above the app directory) is served.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>The id clients send as "model"; defaults to the manifest's id (a Hugging Face export's folder name).</summary>
    public string? Id { get; set; }

    /// <summary>
    /// For a Hugging Face ONNX export: which variant of its ONNX files to load, as transformers.js names them
    /// ("fp32" → model.onnx, "q8" → model_quantized.onnx, "q4" → model_q4.onnx, "fp16" → model_fp16.onnx...).
    /// Default fp32. Ignored for MmServe bundles.
    /// </summary>
    public string? Dtype { get; set; }

    /// <summary>The value of <see cref="DecoderVariant"/> that names the manifest's own "decoder".</summary>
    public const string ManifestDecoder = "decoder";

    /// <summary>
    /// For an MmServe bundle: which form of its decoder the workers run. Unset: CPU workers run the manifest's
    /// shared-KV-buffer variant when it has one (mmserve-tiny's "gqa"), CUDA workers its "decoder". "decoder": the
    /// manifest's decoder everywhere. Any other value: that entry of the manifest's "decoder_variants" everywhere.
    /// </summary>
    public string? DecoderVariant { get; set; }

    /// <summary>
    /// How the model writes tool calls: "hermes" (&lt;tool_call&gt; blocks; Qwen2, Hermes), "llama3_json" or "mistral".
    /// Unset: recognised from the chat template, Hermes when it names none (and for bundles).
    /// </summary>
    public string? ToolCallFormat { get; set; }

    /// <summary>The value of <see cref="GenerationConfig"/> that applies the folder's sampling defaults (the default).</summary>
    public const string GenerationConfigAuto = "auto";

    /// <summary>The value of <see cref="GenerationConfig"/> that gives unset request fields OpenAI's defaults only.</summary>
    public const string GenerationConfigOpenAi = "openai";

    /// <summary>
    /// Whether request fields left unset take the sampling settings the model folder recommends (a Hugging Face
    /// export's generation_config.json, an ORT GenAI folder's search section), as vLLM's --generation-config auto does:
    /// "auto" (default) or "openai" (OpenAI's defaults: temperature 1, top_p 1, no top_k, no max_tokens).
    /// </summary>
    public string? GenerationConfig { get; set; }

    /// <summary>A GenerationConfig value the server does not know.</summary>
    public static string? GenerationConfigProblem(string key, string? value) =>
        value is null or GenerationConfigAuto or GenerationConfigOpenAi ? null : $"{key} '{value}' is not one of {GenerationConfigAuto}, {GenerationConfigOpenAi}.";
}
