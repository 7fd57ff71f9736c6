using MmServe.Abstractions;

namespace MmServe.Engine.Core;

/// <summary>Checks a request against the model before it is queued, so nothing doomed ever takes a queue slot.</summary>
internal static class RequestValidator
{
    public static EngineError? Validate(GenerationRequest request, ExecutorInfo model)
    {
        if (request.Sampling is null)
        {
            return EngineError.InvalidParameter("sampling", "Sampling parameters are required.");
        }

        if (request.Sampling.Validate() is { } samplingError)
        {
            return samplingError;
        }

        var prompt = request.PromptTokenIds.Span;
        if (prompt.IsEmpty)
        {
            return EngineError.InvalidParameter("prompt", "The prompt must contain at least one token.");
        }

        foreach (int tokenId in prompt)
        {
            if ((uint)tokenId >= (uint)model.VocabSize)
            {
                return EngineError.InvalidParameter("prompt", $"Token id {tokenId} is outside the model's vocabulary of {model.VocabSize}.");
            }
        }

        if (ValidateMedia(request.Media, prompt.Length, model.HiddenSize) is { } mediaError)
        {
            return mediaError;
        }

        if (request.Positions is { } positions && positions.PromptLength != prompt.Length)
        {
            return EngineError.InvalidParameter("positions", $"Positions cover {positions.PromptLength} prompt tokens, the prompt has {prompt.Length}.");
        }

        if (request.TokenTypes is { } types && types.PromptLength != prompt.Length)
        {
            return EngineError.InvalidParameter("token_types", $"Token types cover {types.PromptLength} prompt tokens, the prompt has {prompt.Length}.");
        }

        if (EncoderInputValidator.Validate(request, model) is { } encoderError)
        {
            return encoderError;
        }

        if (CrossAttentionInputValidator.Validate(request, model) is { } crossError)
        {
            return crossError;
        }

        // The sequence must fit prompt + max_tokens (at least one new token) in the context window.
        int completion = request.Sampling.MaxTokens ?? 1;
        if ((long)prompt.Length + completion > model.MaxContext)
        {
            string message = request.Sampling.MaxTokens is null
                ? $"This model's maximum context length is {model.MaxContext} tokens. However, your prompt has {prompt.Length} tokens, leaving no room for a completion."
                : $"This model's maximum context length is {model.MaxContext} tokens. However, you requested {(long)prompt.Length + completion} tokens ({prompt.Length} in the prompt, {completion} for the completion).";
            string param = prompt.Length < model.MaxContext && request.Sampling.MaxTokens is not null ? "max_tokens" : "prompt";
            return new EngineError(EngineErrorCode.ContextLengthExceeded, message, param);
        }

        return null;
    }

    private static EngineError? ValidateMedia(IReadOnlyList<MediaEmbedding>? media, int promptLength, int hiddenSize)
    {
        if (media is null)
        {
            return EngineError.InvalidParameter("media", "Media must be an empty list rather than null.");
        }

        int previousEnd = 0;
        foreach (var span in media)
        {
            if (span is null || span.Start < previousEnd || span.Length <= 0 || (long)span.Start + span.Length > promptLength)
            {
                return EngineError.InvalidParameter("media", "Media spans must be sorted, non-overlapping and inside the prompt.");
            }

            if (span.Embeddings.Length != (long)span.Length * hiddenSize)
            {
                return EngineError.InvalidParameter("media", $"A media span of {span.Length} tokens needs {span.Length} x {hiddenSize} embedding values.");
            }

            previousEnd = span.Start + span.Length;
        }

        return null;
    }
}
