using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

/// <summary>
/// A fault in one row's own work after the forward pass (its detokenization, grammar mask or sampling) fails that
/// request alone: the others in the same step keep their token and finish exactly as they would alone.
/// </summary>
public sealed class RowFailureTests
{
    private const int MaxTokens = 12;

    [Fact]
    public async Task A_row_whose_output_throws_fails_alone_and_its_batch_mates_finish_as_alone()
    {
        var model = new FakeModelOptions { ManualStepping = true };
        int[] victimPrompt = TestUtil.Prompt(5, salt: 1);
        int[] bystanderPrompt = TestUtil.Prompt(6, salt: 2);
        var victimTokens = Greedy(victimPrompt, model);
        var bystanderTokens = Greedy(bystanderPrompt, model);

        // The first token of the victim's continuation that the bystander never generates: decoding it throws.
        int poison = victimTokens.Skip(2).First(t => !bystanderTokens.Contains(t));
        int poisonStep = victimTokens.IndexOf(poison);
        using var harness = new EngineHarness(model, new EngineOptions { MaxBatchSize = 4 },
            textOf: t => t == poison ? throw new InvalidOperationException("injected decoder fault") : FakeTokenTextDecoder.Letter(t));
        var victim = await harness.SubmitAsync(victimPrompt, EngineHarness.Greedy(MaxTokens));
        var bystander = await harness.SubmitAsync(bystanderPrompt, EngineHarness.Greedy(MaxTokens));

        harness.Executor.RunFreely();
        var victimResult = await victim.CollectAsync();
        var bystanderResult = await bystander.CollectAsync();

        Assert.Equal(EngineErrorCode.Internal, victimResult.Error.Code);
        Assert.DoesNotContain("injected", victimResult.Error.Message, StringComparison.Ordinal);
        Assert.Equal(victimTokens.Take(poisonStep), victimResult.Tokens);
        Assert.Equal(new FinishedEvent(FinishReason.Length, bystanderPrompt.Length, MaxTokens), bystanderResult.Finished);
        Assert.Equal(bystanderTokens, bystanderResult.Tokens);
        Assert.Equal(0, harness.Engine.Stats.Workers[0].FailedSteps);
        Assert.Contains(harness.Executor.Released, r => r.SequenceId == victim.SequenceId);

        var later = await harness.SubmitAsync(victimPrompt[..3], EngineHarness.Greedy(3));
        Assert.Equal(FinishReason.Length, (await later.CollectAsync()).Finished.Reason);
        Assert.Equal(0, harness.Executor.LiveSequences);
    }

    /// <summary>The fake model's greedy continuation of a prompt (no EOS within <see cref="MaxTokens"/> is required: the caller checks).</summary>
    private static List<int> Greedy(int[] prompt, FakeModelOptions model)
    {
        var tokens = new List<int>(prompt);
        for (int i = 0; i < MaxTokens; i++)
        {
            tokens.Add(FakeModelExecutor.GreedyNextToken(tokens, model));
        }

        Assert.DoesNotContain(model.EosTokenId, tokens.Skip(prompt.Length)); // both run to max_tokens
        return tokens.Skip(prompt.Length).ToList();
    }
}
