using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

/// <summary>Shutdown's deadline: StopGenerating ends what runs and what waits with "abort", and refuses what comes later.</summary>
public sealed class StopGeneratingTests
{
    [Fact]
    public async Task StopGenerating_EndsRunningAndQueuedWithAbortAtTheNextStep_KeepsTheTokensSoFar_AndRefusesNewRequests()
    {
        using var harness = new EngineHarness(new FakeModelOptions { ManualStepping = true }, new EngineOptions { MaxBatchSize = 1 });
        var executor = harness.Executor;
        var running = await harness.SubmitAsync(TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 100), id: "running");
        var queued = await harness.SubmitAsync(TestUtil.Prompt(3, salt: 2), EngineHarness.Greedy(maxTokens: 100), id: "queued");
        executor.AllowSteps(2);
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 3, "the third step is running");

        harness.Engine.StopGenerating();
        executor.AllowSteps(1);
        var stopped = await running.CollectAsync();
        var neverRan = await queued.CollectAsync();

        Assert.Equal(FinishReason.Abort, stopped.Finished.Reason);
        Assert.Equal(3, stopped.Finished.CompletionTokens);
        Assert.Equal(new FinishedEvent(FinishReason.Abort, 3, 0), neverRan.Finished);
        Assert.Equal(3, executor.ForwardCalls);
        Assert.Equal(0, executor.LiveSequences);

        var late = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 4), id: "late");
        Assert.Equal(EngineErrorCode.Unavailable, late.Rejection?.Code);
    }
}
