using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

/// <summary>
/// Per-sequence positions (M-RoPE) travel with their request to every step of it, prefill and decode, mixed in one
/// batch with sequences that have none; the scheduler treats both alike.
/// </summary>
public sealed class SequencePositionsTests
{
    [Fact]
    public async Task Positions_reach_the_executor_on_every_step_of_their_own_sequence_only()
    {
        using var harness = new EngineHarness();
        var positions = new SequencePositions(3, [0, 1, 1, 3, 0, 1, 2, 3, 0, 2, 1, 3], promptLength: 4, delta: -1);
        var withPositions = await harness.Engine.SubmitAsync(
            new GenerationRequest("mrope", TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 3)) { Positions = positions });
        var plain = await harness.SubmitAsync(TestUtil.Prompt(5, salt: 1), EngineHarness.Greedy(maxTokens: 3), id: "plain");

        await withPositions.CollectAsync();
        await plain.CollectAsync();

        var rows = harness.Executor.Steps.SelectMany(s => s).ToList();
        var own = rows.Where(r => r.SequenceId == withPositions.SequenceId).ToList();
        Assert.Equal(3, own.Count); // prefill + 2 decodes
        Assert.All(own, r => Assert.Same(positions, r.Positions));
        Assert.All(rows.Where(r => r.SequenceId == plain.SequenceId), r => Assert.Null(r.Positions));
    }

    [Fact]
    public async Task Positions_that_do_not_cover_the_prompt_are_refused()
    {
        using var harness = new EngineHarness();
        var handle = await harness.Engine.SubmitAsync(
            new GenerationRequest("bad", TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 3))
            {
                Positions = new SequencePositions(3, new long[9], promptLength: 3, delta: 0),
            });

        var result = await handle.CollectAsync();
        Assert.Equal("positions", result.Error.Param);
    }

    [Fact]
    public void Tokens_after_the_prompt_are_shifted_by_the_delta_on_every_axis()
    {
        var positions = new SequencePositions(3, [0, 1, 1, 3, 0, 1, 2, 3, 0, 2, 1, 3], promptLength: 4, delta: -1);
        Assert.Equal([0, 1, 2, 3], Enumerable.Range(0, 4).Select(i => positions.At(1, i)));
        Assert.Equal([3L, 3L, 3L], Enumerable.Range(0, 3).Select(axis => positions.At(axis, 4)));
        Assert.Equal(9, positions.At(2, 10));
    }
}
