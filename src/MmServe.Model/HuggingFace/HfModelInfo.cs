using MmServe.Model.Chat.Jinja;

namespace MmServe.Model.HuggingFace;

/// <summary>What a Hugging Face export adds to the (synthesized) manifest: its architecture, config and chat template.</summary>
/// <param name="Dtype">The ONNX variant loaded ("fp32", "q8", ...).</param>
/// <param name="TemplateVariables">Special tokens handed to the chat template (bos_token, eos_token, ...).</param>
public sealed record HfModelInfo(
    HfArchitecture Architecture,
    HfModelConfig Config,
    JinjaTemplate ChatTemplate,
    IReadOnlyDictionary<string, string> TemplateVariables,
    string Dtype)
{
    /// <summary>Qwen2-VL's vision token ids and M-RoPE settings; null for other architectures.</summary>
    public Qwen2VLConfig? Qwen2VL { get; init; }

    /// <summary>Ultravox's audio placeholder and token-count rule; null for other architectures.</summary>
    public UltravoxConfig? Ultravox { get; init; }
}
