using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests;

public sealed class WorkerPoolTests
{
    [Fact]
    public void EachWorker_GetsItsOwnExecutor()
    {
        using var harness = new EngineHarness(_ => new FakeModelOptions(), new EngineOptions { NumWorkers = 3 }, null, 0);

        Assert.Equal([0, 1, 2], harness.Factory.RequestedWorkerIndexes);
        Assert.Equal(3, harness.Factory.Created.Distinct().Count());
        Assert.Equal(3, harness.Engine.Stats.Workers.Count);
    }

    [Fact]
    public async Task Requests_GoToTheLeastLoadedWorker_NotRoundRobin()
    {
        using var harness = new EngineHarness(_ => new FakeModelOptions { ManualStepping = true }, new EngineOptions { NumWorkers = 2 }, null, 0);
        var (worker0, worker1) = (harness.Factory.Created[0], harness.Factory.Created[1]);

        var longRequest = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 20));   // tie -> worker 0
        var shortRequest = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 1));   // worker 1
        worker1.AllowSteps(1);
        await shortRequest.CollectAsync();
        await TestUtil.WaitUntilAsync(() => harness.Engine.Stats.Workers[1].Active == 0, "worker 1 is idle");

        var third = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 2));  // worker 1 (0 vs 1 active)
        var fourth = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 2)); // tie again -> worker 0

        var stats = harness.Engine.Stats;
        Assert.Equal(2, stats.Workers[0].Active);
        Assert.Equal(1, stats.Workers[1].Active);
        worker0.RunFreely();
        worker1.RunFreely();
        await Task.WhenAll(longRequest.CollectAsync(), third.CollectAsync(), fourth.CollectAsync());

        var seenBy0 = worker0.Steps.SelectMany(s => s).Select(r => r.SequenceId).ToHashSet();
        var seenBy1 = worker1.Steps.SelectMany(s => s).Select(r => r.SequenceId).ToHashSet();
        Assert.Equal(new HashSet<long> { longRequest.SequenceId, fourth.SequenceId }, seenBy0);
        Assert.Equal(new HashSet<long> { shortRequest.SequenceId, third.SequenceId }, seenBy1);
    }
}
