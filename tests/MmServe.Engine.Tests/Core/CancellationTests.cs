using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

public sealed class CancellationTests
{
    [Fact]
    public async Task CancellingMidGeneration_ReleasesTheSlotBeforeTheNextStep()
    {
        using var harness = new EngineHarness(new FakeModelOptions { ManualStepping = true });
        var executor = harness.Executor;
        using var cts = new CancellationTokenSource();
        var cancelled = await harness.SubmitAsync(TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 100), cts.Token, "cancelled");
        var survivor = await harness.SubmitAsync(TestUtil.Prompt(5, salt: 3), EngineHarness.Greedy(maxTokens: 8), id: "survivor");

        executor.AllowSteps(2);
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 3, "the third step is running");
        Assert.Contains(executor.Steps[2], r => r.SequenceId == cancelled.SequenceId);

        await cts.CancelAsync();
        executor.AllowSteps(1);
        await TestUtil.WaitUntilAsync(() => executor.Released.Any(r => r.SequenceId == cancelled.SequenceId), "the cancelled slot is released");

        // Released after step 3 returned and before step 4 was entered.
        Assert.Equal(3, executor.Released.Single(r => r.SequenceId == cancelled.SequenceId).ForwardCallsBefore);
        Assert.Equal(1, harness.Engine.Stats.ReleasedSlots);
        var result = await cancelled.CollectAsync();
        Assert.Equal(FinishReason.Cancelled, result.Finished.Reason);

        executor.RunFreely();
        Assert.Equal(8, (await survivor.CollectAsync()).Finished.CompletionTokens);
        Assert.All(executor.Steps.Skip(3), s => Assert.DoesNotContain(s, r => r.SequenceId == cancelled.SequenceId));
        Assert.Equal(0, executor.LiveSequences);
    }

    [Fact]
    public async Task CancellingWhileQueued_NeverReachesTheExecutor_AndFreesTheQueueSlot()
    {
        using var harness = new EngineHarness(new FakeModelOptions { ManualStepping = true }, new EngineOptions { MaxBatchSize = 1 });
        var executor = harness.Executor;
        var running = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 3));
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 1, "the first request is running");
        using var cts = new CancellationTokenSource();
        var queued = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 3), cts.Token);
        Assert.Equal(1, harness.Engine.Stats.QueuedRequests);

        // The loop reaps at the next step boundary: let the blocked step finish.
        await cts.CancelAsync();
        executor.AllowSteps(1);
        var result = await queued.CollectAsync();

        Assert.Equal(new FinishedEvent(FinishReason.Cancelled, 3, 0), result.Finished);
        Assert.Equal(0, harness.Engine.Stats.QueuedRequests);
        executor.RunFreely();
        await running.CollectAsync();
        Assert.DoesNotContain(executor.Steps.SelectMany(s => s), r => r.SequenceId == queued.SequenceId);
        Assert.DoesNotContain(executor.Released, r => r.SequenceId == queued.SequenceId);
    }

    [Fact]
    public async Task AlreadyCancelledToken_IsRejectedWithoutQueueing()
    {
        using var harness = new EngineHarness();

        var handle = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(), new CancellationToken(canceled: true));

        Assert.Equal(EngineErrorCode.Cancelled, handle.Rejection?.Code);
        Assert.Empty(harness.Executor.Steps);
    }
}
