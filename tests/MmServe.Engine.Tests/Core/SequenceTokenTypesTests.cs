using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

/// <summary>
/// Token types (CogVLM's visual expert) travel with their request to every step of it, prefill and decode, mixed in
/// one batch with sequences that have none; decode steps read the text type; types that do not cover the prompt are
/// refused before the sequence is scheduled.
/// </summary>
public sealed class SequenceTokenTypesTests
{
    [Fact]
    public async Task TokenTypes_reach_the_executor_on_every_step_of_their_own_sequence_only()
    {
        using var harness = new EngineHarness();
        var types = new SequenceTokenTypes([0, 1, 1, 1, 0], textType: 0);
        var expert = await harness.Engine.SubmitAsync(
            new GenerationRequest("expert", TestUtil.Prompt(5), EngineHarness.Greedy(maxTokens: 3)) { TokenTypes = types });
        var plain = await harness.SubmitAsync(TestUtil.Prompt(4, salt: 1), EngineHarness.Greedy(maxTokens: 3), id: "plain");
        await expert.CollectAsync();
        await plain.CollectAsync();

        var rows = harness.Executor.Steps.SelectMany(s => s).ToList();
        var own = rows.Where(r => r.SequenceId == expert.SequenceId).ToList();
        Assert.Equal(3, own.Count); // prefill + 2 decodes
        Assert.All(own, r => Assert.Same(types, r.TokenTypes));
        Assert.All(own.Where(r => !r.IsPrefill), r => Assert.Equal(0, r.TokenTypes!.At(r.StartPosition)));
        Assert.All(rows.Where(r => r.SequenceId == plain.SequenceId), r => Assert.Null(r.TokenTypes));
    }

    [Fact]
    public async Task TokenTypes_that_do_not_cover_the_prompt_are_refused()
    {
        using var harness = new EngineHarness();
        var handle = await harness.Engine.SubmitAsync(
            new GenerationRequest("bad", TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 3))
            {
                TokenTypes = new SequenceTokenTypes([0, 1, 0], textType: 0),
            });
        var result = await handle.CollectAsync();

        Assert.Equal("token_types", result.Error!.Param);
        Assert.DoesNotContain(harness.Executor.Steps.SelectMany(s => s), r => r.SequenceId == handle.SequenceId);
    }

    [Fact]
    public void Tokens_after_the_prompt_have_the_text_type()
    {
        var types = new SequenceTokenTypes([2, 1, 1, 2], textType: 2);
        Assert.Equal([2, 1, 1, 2, 2, 2], Enumerable.Range(0, 6).Select(types.At));
        Assert.Equal(4, types.PromptLength);
    }
}
