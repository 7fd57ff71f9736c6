using MmServe.Abstractions;
using MmServe.Engine.Sampling;

namespace MmServe.Engine.Tests.Sampling;

public sealed class SamplerTests
{
    private readonly Sampler _sampler = new();

    private static float[] RandomLogits(int vocab, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, vocab).Select(_ => (float)(random.NextDouble() * 6 - 3))];
    }

    private int Sample(float[] logits, SamplerState state) => _sampler.Sample((float[])logits.Clone(), state).TokenId;

    [Fact]
    public void Greedy_PicksArgmax_WithTiesGoingToTheLowestId()
    {
        var state = new SamplerState(new SamplingParams { Temperature = 0 });

        Assert.Equal(1, Sample([1f, 5f, 3f, 5f], state));
        Assert.Equal(2, Sample([-1f, -2f, 0.5f, 0.25f], state));
    }

    [Fact]
    public void TopKOne_AlwaysEqualsGreedy()
    {
        for (int trial = 0; trial < 50; trial++)
        {
            var logits = RandomLogits(50, trial);
            var state = new SamplerState(new SamplingParams { Temperature = 1.5f, TopK = 1, Seed = trial });

            Assert.Equal(TokenRanking.ArgMax(logits), Sample(logits, state));
        }
    }

    [Fact]
    public void TinyTopP_AlwaysEqualsGreedy()
    {
        for (int trial = 0; trial < 50; trial++)
        {
            var logits = RandomLogits(200, trial);
            var state = new SamplerState(new SamplingParams { Temperature = 1f, TopP = 1e-6f, Seed = trial });

            Assert.Equal(TokenRanking.ArgMax(logits), Sample(logits, state));
        }
    }

    [Fact]
    public void SeededSampling_IsReproducible_AndDiffersWithAnotherSeed()
    {
        var logits = RandomLogits(64, 3).Select(l => l * 0.2f).ToArray(); // flat enough that draws vary

        int[] Draw(SamplingParams parameters)
        {
            var state = new SamplerState(parameters);
            return [.. Enumerable.Range(0, 40).Select(_ => Sample(logits, state))];
        }

        var first = Draw(new SamplingParams { Temperature = 1f, Seed = 42 });
        var again = Draw(new SamplingParams { Temperature = 1f, Seed = 42 });
        var other = Draw(new SamplingParams { Temperature = 1f, Seed = 43 });
        var greedyA = Draw(new SamplingParams { Temperature = 0f, Seed = 42 });
        var greedyB = Draw(new SamplingParams { Temperature = 0f, Seed = 43 });

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.True(first.Distinct().Count() > 5, "Seeded sampling should explore the distribution.");
        Assert.Equal(greedyA, greedyB);
        Assert.All(greedyA, t => Assert.Equal(TokenRanking.ArgMax(logits), t));
    }

    [Fact]
    public void TopK_NeverSamplesOutsideTheKMostLikelyTokens()
    {
        foreach (int vocab in new[] { 20, 500 }) // 500 with k = 100 takes the full-sort path
        {
            int k = vocab == 20 ? 3 : 100;
            var logits = RandomLogits(vocab, vocab).Select(l => l * 0.1f).ToArray();
            var allowed = logits.Select((l, id) => (l, id)).OrderByDescending(p => p.l).ThenBy(p => p.id).Take(k).Select(p => p.id).ToHashSet();
            var state = new SamplerState(new SamplingParams { Temperature = 2f, TopK = k, Seed = 1 });

            var drawn = Enumerable.Range(0, 2000).Select(_ => Sample(logits, state)).ToList();

            Assert.All(drawn, t => Assert.Contains(t, allowed));
            Assert.True(drawn.Distinct().Count() > k / 2, "Sampling within top-k should still vary.");
        }
    }

    [Fact]
    public void TopP_KeepsTheSmallestSetReachingTheMass()
    {
        // Probabilities 0.6, 0.3, 0.05, 0.05: top_p 0.8 keeps tokens 0 and 1 only.
        float[] logits = [MathF.Log(0.6f), MathF.Log(0.3f), MathF.Log(0.05f), MathF.Log(0.05f)];
        var state = new SamplerState(new SamplingParams { Temperature = 1f, TopP = 0.8f, Seed = 5 });

        var drawn = Enumerable.Range(0, 3000).Select(_ => Sample(logits, state)).ToList();

        Assert.Equal(new[] { 0, 1 }, drawn.Distinct().Order());
        double shareOfFirst = drawn.Count(t => t == 0) / 3000.0;
        Assert.InRange(shareOfFirst, 0.6, 0.73); // renormalised 0.6 / 0.9
    }

    [Fact]
    public void PresencePenalty_ChangesTheChosenTokenOnceATokenWasGenerated()
    {
        float[] logits = [2.0f, 1.5f, 0f];
        var plain = new SamplerState(new SamplingParams { Temperature = 0 });
        var penalised = new SamplerState(new SamplingParams { Temperature = 0, PresencePenalty = 1f });

        Assert.Equal([0, 0], new[] { Sample(logits, plain), Sample(logits, plain) });
        Assert.Equal([0, 1], new[] { Sample(logits, penalised), Sample(logits, penalised) });
    }

    [Fact]
    public void FrequencyPenalty_GrowsWithEachRepetition()
    {
        // 2.0 - 0.3 = 1.7 still beats 1.5; 2.0 - 0.6 = 1.4 does not.
        float[] logits = [2.0f, 1.5f, 0f];
        var state = new SamplerState(new SamplingParams { Temperature = 0, FrequencyPenalty = 0.3f });

        Assert.Equal([0, 0, 1], new[] { Sample(logits, state), Sample(logits, state), Sample(logits, state) });
    }

    [Fact]
    public void Logprobs_TopAlternativesOfAThreeTokenVocab_SumToOne()
    {
        float[] logits = [0.5f, 2f, -1f];
        var state = new SamplerState(new SamplingParams { Temperature = 0, Logprobs = true, TopLogprobs = 3 });

        var result = _sampler.Sample(logits, state);

        Assert.NotNull(result.Logprob);
        var top = result.Logprob.TopLogprobs;
        Assert.Equal(new[] { 1, 0, 2 }, top.Select(t => t.TokenId));
        Assert.Equal(1.0, top.Sum(t => Math.Exp(t.Logprob)), 5);
        Assert.Equal(top[0].Logprob, result.Logprob.Logprob);
        Assert.Equal(1, result.Logprob.TokenId);
    }

    [Fact]
    public void Logprobs_DescribeThePenalisedDistributionBeforeTemperature()
    {
        float[] logits = [1f, 0.5f, 0f, -0.5f];
        double logZ = Math.Log(logits.Sum(l => Math.Exp(l)));
        var state = new SamplerState(new SamplingParams { Temperature = 0.3f, Seed = 9, Logprobs = true });

        for (int i = 0; i < 20; i++)
        {
            var result = _sampler.Sample((float[])logits.Clone(), new SamplerState(state.Parameters with { Seed = i }));

            Assert.NotNull(result.Logprob);
            Assert.Empty(result.Logprob.TopLogprobs);
            Assert.Equal(logits[result.TokenId] - logZ, result.Logprob.Logprob, 5);
        }
    }

    [Fact]
    public void Logprobs_OfImpossibleTokens_AreFiniteForJson()
    {
        float[] logits = [0f, float.NegativeInfinity];
        var state = new SamplerState(new SamplingParams { Temperature = 0, Logprobs = true, TopLogprobs = 2 });

        var result = _sampler.Sample(logits, state);

        Assert.All(result.Logprob!.TopLogprobs, t => Assert.True(float.IsFinite(t.Logprob)));
        Assert.Equal(Sampler.MinLogprob, result.Logprob.TopLogprobs[1].Logprob);
    }
}
