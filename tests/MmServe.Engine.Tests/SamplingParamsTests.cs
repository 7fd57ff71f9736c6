using MmServe.Abstractions;

namespace MmServe.Engine.Tests;

public sealed class SamplingParamsTests
{
    public static TheoryData<string, string> InvalidCases => new()
    {
        { "temperature NaN", "temperature" },
        { "temperature negative", "temperature" },
        { "temperature above 2", "temperature" },
        { "top_p zero", "top_p" },
        { "top_p above 1", "top_p" },
        { "top_p NaN", "top_p" },
        { "top_k negative", "top_k" },
        { "presence_penalty above 2", "presence_penalty" },
        { "presence_penalty NaN", "presence_penalty" },
        { "frequency_penalty below -2", "frequency_penalty" },
        { "max_tokens zero", "max_tokens" },
        { "max_tokens negative", "max_tokens" },
        { "five stop strings", "stop" },
        { "empty stop string", "stop" },
        { "top_logprobs 21", "top_logprobs" },
        { "top_logprobs without logprobs", "top_logprobs" },
    };

    private static readonly Dictionary<string, SamplingParams> Invalid = new()
    {
        ["temperature NaN"] = new() { Temperature = float.NaN },
        ["temperature negative"] = new() { Temperature = -0.1f },
        ["temperature above 2"] = new() { Temperature = 2.01f },
        ["top_p zero"] = new() { TopP = 0f },
        ["top_p above 1"] = new() { TopP = 1.01f },
        ["top_p NaN"] = new() { TopP = float.NaN },
        ["top_k negative"] = new() { TopK = -1 },
        ["presence_penalty above 2"] = new() { PresencePenalty = 2.5f },
        ["presence_penalty NaN"] = new() { PresencePenalty = float.NaN },
        ["frequency_penalty below -2"] = new() { FrequencyPenalty = -2.1f },
        ["max_tokens zero"] = new() { MaxTokens = 0 },
        ["max_tokens negative"] = new() { MaxTokens = -5 },
        ["five stop strings"] = new() { Stop = ["a", "b", "c", "d", "e"] },
        ["empty stop string"] = new() { Stop = ["ok", ""] },
        ["top_logprobs 21"] = new() { Logprobs = true, TopLogprobs = 21 },
        ["top_logprobs without logprobs"] = new() { TopLogprobs = 2 },
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Validate_RefusesOutOfRangeValue_NamingTheParameter(string @case, string expectedParam)
    {
        var error = Invalid[@case].Validate();

        Assert.NotNull(error);
        Assert.Equal(EngineErrorCode.InvalidRequest, error.Code);
        Assert.Equal(expectedParam, error.Param);
        Assert.Contains(expectedParam, error.Message);
    }

    [Fact]
    public void Validate_AcceptsDefaultsAndInclusiveBoundaries()
    {
        Assert.Null(new SamplingParams().Validate());
        Assert.Null(new SamplingParams
        {
            Temperature = 2f,
            TopP = 1f,
            TopK = 1,
            PresencePenalty = -2f,
            FrequencyPenalty = 2f,
            MaxTokens = 1,
            Stop = ["a", "b", "c", "d"],
            Logprobs = true,
            TopLogprobs = 20,
        }.Validate());
        Assert.Null(new SamplingParams { Temperature = 0f, TopP = 1e-6f }.Validate());
    }

    [Fact]
    public void Defaults_MatchOpenAi()
    {
        var defaults = new SamplingParams();

        Assert.Equal(1f, defaults.Temperature);
        Assert.Equal(1f, defaults.TopP);
        Assert.Equal(0, defaults.TopK);
        Assert.Null(defaults.MaxTokens);
        Assert.Empty(defaults.Stop);
        Assert.False(defaults.IsGreedy);
    }
}
