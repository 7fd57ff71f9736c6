namespace MmServe.Serving.Models;

/// <summary>
/// One entry of the "Models" list: a model served next to others, with its own engine workers. "Model:Path" /
/// "Model:Id" with the top-level "Workers" remain the one-model shorthand; with "Models", entry 0 takes their place.
/// </summary>
public sealed class ModelEntryOptions
{
    /// <summary>The bundle or Hugging Face export folder, resolved like Model:Path.</summary>
    public string? Path { get; set; }

    /// <summary>The id clients send as "model"; defaults to the manifest's id. Ids must be unique.</summary>
    public string? Id { get; set; }

    /// <summary>A Hugging Face export's ONNX variant, as Model:Dtype.</summary>
    public string? Dtype { get; set; }

    /// <summary>An MmServe bundle's decoder variant, as Model:DecoderVariant.</summary>
    public string? DecoderVariant { get; set; }

    /// <summary>The model's tool-call format, as Model:ToolCallFormat.</summary>
    public string? ToolCallFormat { get; set; }

    /// <summary>Whether the folder's sampling defaults apply, as Model:GenerationConfig.</summary>
    public string? GenerationConfig { get; set; }

    /// <summary>This model's engine workers; the top-level "Workers" list when absent.</summary>
    public List<WorkerOptions>? Workers { get; set; }
}

/// <summary>The "Models" list.</summary>
public sealed class ModelListOptions
{
    public const string SectionName = "Models";

    public IReadOnlyList<ModelEntryOptions> Models { get; set; } = [];
}
