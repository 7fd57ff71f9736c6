using MmServe.Abstractions;

namespace MmServe.Engine;

public sealed partial record GenerationRequest
{
    /// <summary>
    /// Gated cross-attention models: the request's media and the prompt positions of their marker tokens (then
    /// <see cref="Media"/> is empty). Refused by any other model. Null for a request without media.
    /// </summary>
    public CrossAttentionMedia? CrossAttention { get; init; }
}
