using MmServe.Model.Bundle;
using MmServe.Serving.Requests;

namespace MmServe.Serving.Tests.Requests;

/// <summary>Unset request fields take the model folder's sampling defaults, then OpenAI's; set fields always win.</summary>
public sealed class SamplingRulesTests
{
    private static readonly RequestFieldNames Fields = RequestFieldNames.OpenAi("max_tokens");
    private static readonly SamplingDefaults Qwen = new(0.7, 0.8, 20, 64, "generation_config.json");

    [Fact]
    public void Unset_fields_take_the_folders_defaults()
    {
        var (sampling, error) = SamplingRules.Apply(new SamplingInput(), Fields, Qwen);

        Assert.Null(error);
        Assert.Equal((0.7f, 0.8f, 20, 64), (sampling!.Temperature, sampling.TopP, sampling.TopK, sampling.MaxTokens));
    }

    [Fact]
    public void Fields_the_request_sets_win_over_the_folders_including_top_k_minus_one()
    {
        var (sampling, _) = SamplingRules.Apply(new SamplingInput { Temperature = 0, TopP = 1, TopK = -1, MaxTokens = 5 }, Fields, Qwen);

        Assert.Equal((0f, 1f, 0, 5), (sampling!.Temperature, sampling.TopP, sampling.TopK, sampling.MaxTokens));
    }

    [Fact]
    public void Without_defaults_unset_fields_take_openais()
    {
        var (sampling, _) = SamplingRules.Apply(new SamplingInput(), Fields, SamplingDefaults.None);

        Assert.Equal((1f, 1f, 0, (int?)null), (sampling!.Temperature, sampling.TopP, sampling.TopK, sampling.MaxTokens));
    }

    [Fact]
    public void Do_sample_false_is_greedy_by_default_but_a_request_may_still_sample()
    {
        var greedy = SamplingDefaults.From(doSample: false, temperature: 0.6, topP: 0.9, topK: null, maxNewTokens: null, "generation_config.json");

        Assert.True(SamplingRules.Apply(new SamplingInput(), Fields, greedy).Sampling!.IsGreedy);
        var sampled = SamplingRules.Apply(new SamplingInput { Temperature = 0.9 }, Fields, greedy).Sampling!;
        Assert.Equal((0.9f, 1f), (sampled.Temperature, sampled.TopP)); // the folder's top_p belonged to a search it does not run
    }
}
