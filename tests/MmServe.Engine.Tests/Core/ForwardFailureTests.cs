using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

public sealed class ForwardFailureTests
{
    private const int Poison = 31;

    [Fact]
    public async Task ForwardException_FailsOnlyThatStepsRequests_AndTheLoopKeepsServing()
    {
        var model = new FakeModelOptions
        {
            ManualStepping = true,
            FailWhen = batch => batch.Any(i => i.StartPosition == 0 && i.TokenIds.Span.Contains(Poison)),
        };
        using var harness = new EngineHarness(model, new EngineOptions { MaxBatchSize = 2 });
        var executor = harness.Executor;
        var running = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 50));
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 1, "the first request is running");
        var poisoned = await harness.SubmitAsync([1, Poison, 2], EngineHarness.Greedy(maxTokens: 5));
        var waiting = await harness.SubmitAsync(TestUtil.Prompt(4, salt: 2), EngineHarness.Greedy(maxTokens: 5));

        executor.RunFreely();
        var runningResult = await running.CollectAsync();
        var poisonedResult = await poisoned.CollectAsync();
        var waitingResult = await waiting.CollectAsync();

        Assert.Equal(EngineErrorCode.Internal, runningResult.Error.Code);
        Assert.Equal(EngineErrorCode.Internal, poisonedResult.Error.Code);
        Assert.DoesNotContain("Injected", poisonedResult.Error.Message);
        Assert.Equal(new FinishedEvent(FinishReason.Length, 4, 5), waitingResult.Finished);
        Assert.Equal([running.SequenceId, poisoned.SequenceId], executor.Released.Take(2).Select(r => r.SequenceId).Order());

        var later = await harness.SubmitAsync(TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 3));
        Assert.Equal(FinishReason.Length, (await later.CollectAsync()).Finished.Reason);
        Assert.Equal(1, harness.Engine.Stats.Workers[0].FailedSteps);
        Assert.Equal(0, executor.LiveSequences);
    }

    [Fact]
    public async Task Shutdown_CancelsTheForwardInFlight_EndsTheLoopCleanly_AndFailsPendingRequests()
    {
        var harness = new EngineHarness(new FakeModelOptions { ManualStepping = true });
        var executor = harness.Executor;
        var inFlight = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 10));
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 1, "a forward is blocked");

        var disposing = Task.Run(harness.Dispose);
        await disposing.WaitAsync(TestUtil.Timeout);

        Assert.Equal(EngineErrorCode.Unavailable, (await inFlight.CollectAsync()).Error.Code);
        Assert.True(executor.IsDisposed);
        Assert.Equal(0, executor.LiveSequences);
        var afterShutdown = await harness.SubmitAsync(TestUtil.Prompt(3));
        Assert.Equal(EngineErrorCode.Unavailable, afterShutdown.Rejection?.Code);
    }
}
