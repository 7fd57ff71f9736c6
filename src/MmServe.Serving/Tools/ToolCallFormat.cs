namespace MmServe.Serving.Tools;

/// <summary>How a model family writes tool calls in its output.</summary>
public enum ToolCallFormat
{
    /// <summary>Hermes / Qwen2: &lt;tool_call&gt;\n{"name": …, "arguments": {…}}\n&lt;/tool_call&gt;, one block per call.</summary>
    Hermes,

    /// <summary>Llama 3.1+: the whole answer is {"name": …, "parameters": {…}} (calls separated by ';').</summary>
    Llama3Json,

    /// <summary>Mistral: [TOOL_CALLS] followed by a JSON array of {"name": …, "arguments": {…}}.</summary>
    Mistral,
}

/// <summary>Which format a model uses: configured, or recognised from its chat template.</summary>
public static class ToolCallFormats
{
    /// <param name="configured">Model:ToolCallFormat (hermes, llama3_json, mistral), or null to recognise it.</param>
    /// <param name="templateSource">The model's chat template ("" for bundles, which then use Hermes).</param>
    public static ToolCallFormat Resolve(string? configured, string templateSource) => configured switch
    {
        "hermes" => ToolCallFormat.Hermes,
        "llama3_json" => ToolCallFormat.Llama3Json,
        "mistral" => ToolCallFormat.Mistral,
        null or "" => Recognise(templateSource),
        _ => throw new ArgumentException($"Unknown tool call format '{configured}'; use hermes, llama3_json or mistral.", nameof(configured)),
    };

    private static ToolCallFormat Recognise(string template) =>
        template.Contains("<tool_call>", StringComparison.Ordinal) ? ToolCallFormat.Hermes
        : template.Contains("[TOOL_CALLS]", StringComparison.Ordinal) ? ToolCallFormat.Mistral
        : template.Contains("\"parameters\"", StringComparison.Ordinal) || template.Contains("<|python_tag|>", StringComparison.Ordinal) ? ToolCallFormat.Llama3Json
        : ToolCallFormat.Hermes;
}
