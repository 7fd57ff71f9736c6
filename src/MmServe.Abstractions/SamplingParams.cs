namespace MmServe.Abstractions;

/// <summary>
/// OpenAI-style sampling parameters of one request. Defaults match OpenAI's, so an empty object samples
/// from the model's plain distribution. Call <see cref="Validate"/> before use: the engine refuses invalid ones.
/// </summary>
public sealed record SamplingParams
{
    public const int MaxStopSequences = 4;
    public const int MaxTopLogprobs = 20;
    public const float MaxTemperature = 2f;
    public const float MaxAbsPenalty = 2f;

    /// <summary>Softmax temperature in [0, 2]; 0 means greedy (argmax, ties to the lowest token id).</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Nucleus mass in (0, 1]; 1 disables nucleus sampling.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Keep only the K most likely tokens; 0 disables.</summary>
    public int TopK { get; init; }

    /// <summary>Seed of this request's own random generator; the same seed reproduces the same tokens.</summary>
    public long? Seed { get; init; }

    /// <summary>Subtracted once from the logit of every token already generated, in [-2, 2].</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Subtracted from a token's logit once per time it was generated, in [-2, 2].</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Most tokens to generate; null means until a stop condition or the context window is full.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Up to four strings that end generation; the matched string is not part of the output.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Return the log probability of each generated token.</summary>
    public bool Logprobs { get; init; }

    /// <summary>How many most likely alternatives to return with each token's logprob, 0..20 (requires <see cref="Logprobs"/>).</summary>
    public int TopLogprobs { get; init; }

    /// <summary>Keep generating past end-of-sequence tokens (benchmarks).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Whether sampling is the deterministic argmax.</summary>
    public bool IsGreedy => Temperature == 0f;

    /// <summary>Returns null when valid, otherwise an <see cref="EngineErrorCode.InvalidRequest"/> error naming the first bad parameter.</summary>
    public EngineError? Validate()
    {
        // Written as negated range checks so that NaN, which fails every comparison, is refused too.
        if (!(Temperature >= 0f && Temperature <= MaxTemperature))
        {
            return EngineError.InvalidParameter("temperature", $"temperature must be between 0 and {MaxTemperature}.");
        }

        if (!(TopP > 0f && TopP <= 1f))
        {
            return EngineError.InvalidParameter("top_p", "top_p must be greater than 0 and at most 1.");
        }

        if (TopK < 0)
        {
            return EngineError.InvalidParameter("top_k", "top_k must be 0 (disabled) or a positive number.");
        }

        if (!(PresencePenalty >= -MaxAbsPenalty && PresencePenalty <= MaxAbsPenalty))
        {
            return EngineError.InvalidParameter("presence_penalty", $"presence_penalty must be between -{MaxAbsPenalty} and {MaxAbsPenalty}.");
        }

        if (!(FrequencyPenalty >= -MaxAbsPenalty && FrequencyPenalty <= MaxAbsPenalty))
        {
            return EngineError.InvalidParameter("frequency_penalty", $"frequency_penalty must be between -{MaxAbsPenalty} and {MaxAbsPenalty}.");
        }

        if (MaxTokens is <= 0)
        {
            return EngineError.InvalidParameter("max_tokens", "max_tokens must be at least 1.");
        }

        if (Stop is null || Stop.Count > MaxStopSequences)
        {
            return EngineError.InvalidParameter("stop", $"stop accepts at most {MaxStopSequences} strings.");
        }

        foreach (var stop in Stop)
        {
            if (string.IsNullOrEmpty(stop))
            {
                return EngineError.InvalidParameter("stop", "stop strings must not be empty.");
            }
        }

        if (TopLogprobs < 0 || TopLogprobs > MaxTopLogprobs)
        {
            return EngineError.InvalidParameter("top_logprobs", $"top_logprobs must be between 0 and {MaxTopLogprobs}.");
        }

        if (TopLogprobs > 0 && !Logprobs)
        {
            return EngineError.InvalidParameter("top_logprobs", "top_logprobs requires logprobs to be true.");
        }

        return null;
    }
}
