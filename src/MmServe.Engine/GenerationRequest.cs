using MmServe.Abstractions;
using MmServe.Engine.Constraints;

namespace MmServe.Engine;

/// <summary>One generation job, already tokenized (and with media already embedded) by the API layer.</summary>
/// <param name="RequestId">Caller's id, echoed in logs; not required to be unique.</param>
/// <param name="PromptTokenIds">The full prompt, including media placeholder tokens.</param>
/// <param name="Sampling">Sampling parameters; refused with an error event when invalid.</param>
public sealed partial record GenerationRequest(string RequestId, ReadOnlyMemory<int> PromptTokenIds, SamplingParams Sampling)
{
    /// <summary>Embedding spans that replace placeholder positions of the prompt (sorted, non-overlapping).</summary>
    public IReadOnlyList<MediaEmbedding> Media { get; init; } = [];

    /// <summary>
    /// Stream the final hidden states of generated tokens with these ids only, as each is fed back (e.g. the
    /// signal tokens of an output modality, whose hidden states condition a generator). Only those rows are
    /// copied out of the model, so this costs nothing on other steps. The last generated token is never fed back,
    /// so its hidden state is not produced.
    /// </summary>
    public IReadOnlySet<int>? HiddenStateTokenIds { get; init; }

    /// <summary>
    /// Positions computed by the model adapter when they are not the token index (Qwen2-VL's M-RoPE); passed to the
    /// executor with every step of this request. The scheduler never looks at them.
    /// </summary>
    public SequencePositions? Positions { get; init; }

    /// <summary>
    /// Restricts every sampled token to the grammar (structured outputs, forced tool calls): the output is a
    /// sentence of it, ended by EOS once complete, and steered to its shortest ending as max_tokens or the context
    /// runs out. Null: unconstrained.
    /// </summary>
    public TokenConstraint? Constraint { get; init; }
}
