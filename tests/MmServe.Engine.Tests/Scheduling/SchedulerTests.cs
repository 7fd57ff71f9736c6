using MmServe.Abstractions;
using MmServe.Engine.Core;
using MmServe.Engine.Output;
using MmServe.Engine.Scheduling;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Scheduling;

public sealed class SchedulerTests
{
    private const int Eos = 0;
    private long _nextId;

    private Sequence NewSequence(int promptLength, int? maxTokens = 10, bool ignoreEos = false) =>
        new(++_nextId,
            new GenerationRequest("r", TestUtil.Prompt(promptLength), new SamplingParams { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = ignoreEos }),
            maxContext: 256,
            new TextOutputProcessor(new FakeTokenTextDecoder(Eos).CreateIncrementalDecoder(), []),
            new RequestOutputCollector(false, 0));

    private static Scheduler NewScheduler(int maxBatchSize = 8, int maxTokens = 100) => new(maxBatchSize, maxTokens, t => t == Eos);

    private static void CompleteStep(Scheduler scheduler, StepPlan plan, int token = 5, List<Sequence>? finished = null) =>
        scheduler.UpdateFromOutput(plan, Enumerable.Repeat(token, plan.Items.Count).ToArray(), finished ?? []);

    [Fact]
    public void Newcomers_ArePrefilledTogether_AlongsideRunningDecodes()
    {
        var scheduler = NewScheduler();
        var running = NewSequence(4);
        scheduler.Add(running);
        CompleteStep(scheduler, scheduler.Schedule());

        var a = NewSequence(3);
        var b = NewSequence(5);
        scheduler.Add(a);
        scheduler.Add(b);
        var plan = scheduler.Schedule();

        Assert.Equal(
            new[] { (running.Id, 4, 1), (a.Id, 0, 3), (b.Id, 0, 5) },
            plan.Items.Select(i => (i.Sequence.Id, i.StartPosition, i.NumTokens)));
        Assert.Equal(9, plan.TotalTokens);
        Assert.Equal(2, plan.NumPrefills);
        Assert.Equal(new SchedulerStats(3, 0), scheduler.Stats);
    }

    [Fact]
    public void Prefills_StopAtTheTokenBudget_AndJoinOnALaterStep()
    {
        var scheduler = NewScheduler(maxTokens: 10);
        var a = NewSequence(6);
        var b = NewSequence(6);
        scheduler.Add(a);
        scheduler.Add(b);

        var first = scheduler.Schedule();
        Assert.Equal([a.Id], first.Items.Select(i => i.Sequence.Id));
        Assert.Equal(1, scheduler.Stats.Waiting);
        CompleteStep(scheduler, first);

        var second = scheduler.Schedule();
        Assert.Equal(new[] { (a.Id, 1), (b.Id, 6) }, second.Items.Select(i => (i.Sequence.Id, i.NumTokens)));
        Assert.Equal(7, second.TotalTokens);
    }

    [Fact]
    public void RunningBatch_NeverExceedsMaxBatchSize()
    {
        var scheduler = NewScheduler(maxBatchSize: 2);
        var sequences = Enumerable.Range(0, 3).Select(_ => NewSequence(2)).ToList();
        sequences.ForEach(scheduler.Add);

        var plan = scheduler.Schedule();

        Assert.Equal(2, plan.Items.Count);
        Assert.Equal(new SchedulerStats(2, 1), scheduler.Stats);

        scheduler.Finish(sequences[0], FinishReason.Cancelled);
        CompleteStep(scheduler, scheduler.Schedule());
        Assert.Equal(new SchedulerStats(2, 0), scheduler.Stats);
    }

    [Fact]
    public void PromptLargerThanTheBudget_RunsAloneOnceTheBatchIsEmpty()
    {
        var scheduler = NewScheduler(maxTokens: 4);
        var small = NewSequence(2, maxTokens: 1);
        var big = NewSequence(8);
        scheduler.Add(small);
        scheduler.Add(big);

        var first = scheduler.Schedule();
        Assert.Equal([small.Id], first.Items.Select(i => i.Sequence.Id));
        var finished = new List<Sequence>();
        CompleteStep(scheduler, first, finished: finished);
        Assert.Equal([small], finished);

        var second = scheduler.Schedule();
        Assert.Equal([(big.Id, 8)], second.Items.Select(i => (i.Sequence.Id, i.NumTokens)));
    }

    [Fact]
    public void WaitingQueue_IsFifo_SoALongPromptIsNotOvertaken()
    {
        var scheduler = NewScheduler(maxTokens: 10);
        var running = NewSequence(2);
        scheduler.Add(running);
        CompleteStep(scheduler, scheduler.Schedule());

        var longPrompt = NewSequence(10);
        var shortPrompt = NewSequence(1);
        scheduler.Add(longPrompt);
        scheduler.Add(shortPrompt);

        Assert.Equal([running.Id], scheduler.Schedule().Items.Select(i => i.Sequence.Id));
    }

    [Fact]
    public void UpdateFromOutput_FinishesOnEosAndOnMaxTokens_ButNotWhenEosIsIgnored()
    {
        var scheduler = NewScheduler();
        var eos = NewSequence(2);
        var ignoring = NewSequence(2, ignoreEos: true);
        var oneToken = NewSequence(2, maxTokens: 1);
        scheduler.Add(eos);
        scheduler.Add(ignoring);
        scheduler.Add(oneToken);
        var finished = new List<Sequence>();

        scheduler.UpdateFromOutput(scheduler.Schedule(), [Eos, Eos, 7], finished);

        Assert.Equal([eos, oneToken], finished);
        Assert.Equal(FinishReason.Stop, eos.FinishReason);
        Assert.Equal(FinishReason.Length, oneToken.FinishReason);
        Assert.Equal(SequenceStatus.Running, ignoring.Status);
        Assert.Equal(new[] { (ignoring.Id, 2, 1) }, scheduler.Schedule().Items.Select(i => (i.Sequence.Id, i.StartPosition, i.NumTokens)));
    }

    [Fact]
    public void MaxTokens_IsClippedToTheContextWindow()
    {
        var sequence = new Sequence(1,
            new GenerationRequest("r", TestUtil.Prompt(250), new SamplingParams()),
            maxContext: 256,
            new TextOutputProcessor(new FakeTokenTextDecoder(Eos).CreateIncrementalDecoder(), []),
            new RequestOutputCollector(false, 0));

        Assert.Equal(6, sequence.MaxNewTokens);
    }
}
