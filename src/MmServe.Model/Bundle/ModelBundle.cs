namespace MmServe.Model.Bundle;

/// <summary>A validated bundle: its manifest plus the absolute paths of the files it refers to.</summary>
/// <param name="Directory">Absolute bundle folder.</param>
/// <param name="ManifestPath">Absolute path of manifest.json (config.json for a Hugging Face export).</param>
/// <param name="Manifest">The parsed, validated manifest.</param>
/// <param name="TokenizerPath">Absolute path of the HF tokenizer.json.</param>
/// <param name="ChatTemplatePath">Absolute path of the Jinja template, when the manifest names one.</param>
/// <param name="ComponentPaths">Absolute ONNX file path by component name.</param>
public sealed record ModelBundle(
    string Directory,
    string ManifestPath,
    BundleManifest Manifest,
    string TokenizerPath,
    string? ChatTemplatePath,
    IReadOnlyDictionary<string, string> ComponentPaths)
{
    /// <summary>
    /// Set when the folder is a Hugging Face ONNX export: <see cref="Manifest"/> was synthesized from its config
    /// files (see <see cref="HuggingFace.HfFolderLoader"/>) and prompts come from its Jinja chat template.
    /// </summary>
    public HuggingFace.HfModelInfo? HuggingFace { get; init; }

    /// <summary>
    /// Set when the folder is an ONNX Runtime GenAI model folder (see <see cref="GenAi.GenAiFolderLoader"/>): its
    /// genai_config.json. <see cref="HuggingFace"/> is set too, because prompts are built as for a text LLM export.
    /// </summary>
    public GenAi.GenAiConfig? GenAi { get; init; }

    /// <summary>
    /// The sampling settings the folder recommends (a Hugging Face export's generation_config.json, an ORT GenAI
    /// folder's search section); none for MmServe bundles.
    /// </summary>
    public SamplingDefaults SamplingDefaults { get; init; } = SamplingDefaults.None;

    /// <summary>Absolute ONNX path of <paramref name="componentName"/>; throws when the manifest has no such component.</summary>
    public string ComponentPath(string componentName) =>
        ComponentPaths.TryGetValue(componentName, out var path)
            ? path
            : throw new KeyNotFoundException($"bundle '{Manifest.Id}' has no component '{componentName}'");
}
