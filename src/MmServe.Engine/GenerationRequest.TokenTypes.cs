using MmServe.Abstractions;

namespace MmServe.Engine;

public sealed partial record GenerationRequest
{
    /// <summary>
    /// Token types computed by the model adapter for a visual-expert decoder (CogVLM); passed to the executor with every
    /// step of this request, like <see cref="Positions"/>. The scheduler never looks at them.
    /// </summary>
    public SequenceTokenTypes? TokenTypes { get; init; }
}
