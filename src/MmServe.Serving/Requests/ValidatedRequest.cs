using MmServe.Abstractions;
using MmServe.Engine.Constraints;
using MmServe.Model.Chat;
using MmServe.Serving.Media;
using MmServe.Serving.Tools;

namespace MmServe.Serving.Requests;

/// <summary>A request that passed every rule, in engine terms; no media has been read or decoded yet.</summary>
/// <param name="Conversation">The turns, media as <see cref="ChatPart.Media"/> numbered in order of appearance.</param>
/// <param name="Media">Media item i of the conversation: its source and the field it came from.</param>
/// <param name="Sampling">Valid sampling parameters (logprobs included).</param>
/// <param name="Outputs">Media to generate besides text.</param>
public sealed record ValidatedRequest(
    IReadOnlyList<ChatTurn> Conversation,
    IReadOnlyList<MediaReference> Media,
    SamplingParams Sampling,
    RequestedOutputs Outputs)
{
    /// <summary>The completion-length field the client used, named when the prompt and completion do not fit.</summary>
    public string MaxTokensParam { get; init; } = "max_tokens";

    /// <summary>The grammar the output must follow (response_format, forced tool calls); null: unconstrained.</summary>
    public TokenConstraint? Constraint { get; init; }

    /// <summary>Functions offered to the model and how its output is read for calls; null: no tools.</summary>
    public ToolPlan? Tools { get; init; }

    /// <summary>The field named when the prompt alone does not fit ("messages"; "prompt" or "input" for task endpoints).</summary>
    public string PromptParam { get; init; } = "messages";
}
