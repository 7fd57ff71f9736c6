using MmServe.Abstractions;

namespace MmServe.Engine.Core;

/// <summary>Cross-attention media only for a cross-attention model, within its limits, with markers inside the prompt.</summary>
internal static class CrossAttentionInputValidator
{
    public static EngineError? Validate(GenerationRequest request, ExecutorInfo model)
    {
        if (request.CrossAttention is not { } media)
        {
            return null;
        }

        if (model.CrossAttention is not { } limits)
        {
            return EngineError.InvalidParameter("media", "This model has no cross-attention; the request must not carry cross-attention media.");
        }

        if (media.Items > limits.MaxItems)
        {
            return EngineError.InvalidParameter("media", $"The request has {media.Items} media items; this model takes at most {limits.MaxItems} per request.");
        }

        if (media.TokensPerItem != limits.TokensPerItem || media.Width != limits.Width)
        {
            return EngineError.InvalidParameter(
                "media", $"Media items of {media.TokensPerItem} x {media.Width} values; this model takes {limits.TokensPerItem} x {limits.Width}.");
        }

        if (media.MarkerPositions[^1] >= request.PromptTokenIds.Length)
        {
            return EngineError.InvalidParameter("media", "A media marker position lies outside the prompt.");
        }

        return request.Media.Count > 0
            ? EngineError.InvalidParameter("media", "A cross-attention request carries no embedding spans.")
            : null;
    }
}
