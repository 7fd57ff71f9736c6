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
}
