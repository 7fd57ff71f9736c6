using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

public sealed class BatchInvarianceTests
{
    private static readonly int[] TargetPrompt = TestUtil.Prompt(9, salt: 5);

    private static async Task<IReadOnlyList<int>> RunAsync(SamplingParams target, int others)
    {
        using var harness = new EngineHarness(new FakeModelOptions { MaxBatchSize = 16, VocabSize = 64 });
        var handles = new List<Task<GenerationResult>>();
        Task<GenerationResult>? targetResult = null;
        for (int i = 0; i < others; i++)
        {
            if (i == others / 2)
            {
                targetResult = Collect(await harness.SubmitAsync(TargetPrompt, target, id: "target"));
            }

            // Different lengths, budgets and sampling so the batch changes shape every few steps.
            var sampling = new SamplingParams { Temperature = i % 3 == 0 ? 0 : 0.8f, Seed = i, MaxTokens = 3 + i * 2, TopK = i % 4 };
            handles.Add(Collect(await harness.SubmitAsync(TestUtil.Prompt(2 + i * 3 % 17, salt: i), sampling, id: $"other{i}")));
        }

        targetResult ??= Collect(await harness.SubmitAsync(TargetPrompt, target, id: "target"));
        var result = await targetResult;
        await Task.WhenAll(handles);
        Assert.Equal(FinishReason.Length, result.Finished.Reason);
        if (others > 0)
        {
            Assert.Contains(harness.Executor.Steps, s => s.Count > 8);
        }

        return result.Tokens;
    }

    private static Task<GenerationResult> Collect(GenerationHandle handle) => handle.CollectAsync();

    [Fact]
    public async Task GreedyOutput_IsIdenticalAloneAndAmongFifteenOthers()
    {
        var greedy = new SamplingParams { Temperature = 0, MaxTokens = 24 };

        var alone = await RunAsync(greedy, others: 0);
        var crowded = await RunAsync(greedy, others: 15);

        Assert.Equal(24, alone.Count);
        Assert.Equal(alone, crowded);
    }

    [Fact]
    public async Task SeededSampling_IsIdenticalAloneAndAmongFifteenOthers_AndDependsOnTheSeed()
    {
        var seeded = new SamplingParams { Temperature = 1.2f, TopP = 0.95f, TopK = 40, Seed = 1234, PresencePenalty = 0.5f, MaxTokens = 24 };

        var alone = await RunAsync(seeded, others: 0);
        var crowded = await RunAsync(seeded, others: 15);
        var otherSeed = await RunAsync(seeded with { Seed = 4321 }, others: 0);

        Assert.Equal(alone, crowded);
        Assert.NotEqual(alone, otherSeed);
    }
}
