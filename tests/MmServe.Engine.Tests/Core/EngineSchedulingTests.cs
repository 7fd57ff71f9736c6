using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

public sealed class EngineSchedulingTests
{
    [Fact]
    public async Task RequestsJoinAndLeaveTheRunningBatchBetweenSteps()
    {
        using var harness = new EngineHarness(new FakeModelOptions { ManualStepping = true });
        var executor = harness.Executor;

        var a = await harness.SubmitAsync(TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 3), id: "a");
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 1, "A's prefill is running");
        var b = await harness.SubmitAsync(TestUtil.Prompt(6, salt: 1), EngineHarness.Greedy(maxTokens: 6), id: "b");
        executor.AllowSteps(1);
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 2, "the second step is running");

        Assert.Equal(
            new[] { new RecordedRow(a.SequenceId, 4, 1, 0, false), new RecordedRow(b.SequenceId, 0, 6, 0, false) },
            executor.Steps[1]);

        executor.RunFreely();
        var resultA = await a.CollectAsync();
        var resultB = await b.CollectAsync();

        Assert.Equal(3, resultA.Finished.CompletionTokens);
        Assert.Equal(6, resultB.Finished.CompletionTokens);
        Assert.Equal([1, 2, 2, 1, 1, 1, 1], executor.Steps.Select(s => s.Count));
        Assert.All(executor.Steps.Skip(3), s => Assert.Equal(b.SequenceId, Assert.Single(s).SequenceId));
    }

    [Fact]
    public async Task TwoNewcomers_ArePrefilledInTheSameForwardAsTheRunningDecode()
    {
        using var harness = new EngineHarness(new FakeModelOptions { ManualStepping = true });
        var executor = harness.Executor;
        var running = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 4));
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 1, "the first prefill is running");

        var first = await harness.SubmitAsync(TestUtil.Prompt(5, salt: 1), EngineHarness.Greedy(maxTokens: 2));
        var second = await harness.SubmitAsync(TestUtil.Prompt(7, salt: 2), EngineHarness.Greedy(maxTokens: 2));
        executor.AllowSteps(1);
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 2, "the second step is running");

        var step = executor.Steps[1];
        Assert.Equal(3, step.Count);
        Assert.Equal((running.SequenceId, 3, 1), (step[0].SequenceId, step[0].StartPosition, step[0].TokenCount));
        Assert.Equal((first.SequenceId, 0, 5), (step[1].SequenceId, step[1].StartPosition, step[1].TokenCount));
        Assert.Equal((second.SequenceId, 0, 7), (step[2].SequenceId, step[2].StartPosition, step[2].TokenCount));

        executor.RunFreely();
        foreach (var handle in new[] { running, first, second })
        {
            Assert.Equal(FinishReason.Length, (await handle.CollectAsync()).Finished.Reason);
        }
    }

    [Fact]
    public async Task BatchSizeAndTokenBudget_AreRespected_WhileEveryRequestCompletes()
    {
        using var harness = new EngineHarness(
            new FakeModelOptions { ManualStepping = true },
            new EngineOptions { MaxBatchSize = 3, MaxNumBatchedTokens = 12 });
        var executor = harness.Executor;
        var handles = new List<GenerationHandle> { await harness.SubmitAsync(TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 5)) };
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 1, "the first prefill is running");

        for (int i = 1; i < 10; i++)
        {
            handles.Add(await harness.SubmitAsync(TestUtil.Prompt(4, salt: i), EngineHarness.Greedy(maxTokens: 2 + i % 4)));
        }

        executor.RunFreely();
        foreach (var handle in handles)
        {
            Assert.Equal(FinishReason.Length, (await handle.CollectAsync()).Finished.Reason);
        }

        var steps = executor.Steps;
        Assert.All(steps, s => Assert.InRange(s.Count, 1, 3));
        Assert.All(steps, s => Assert.True(s.Sum(r => r.TokenCount) <= 12, "token budget exceeded"));
        Assert.Equal(3, steps[1].Count); // one decode + two prefills filled the batch
        Assert.Equal(10, executor.Released.Count);
    }

    [Fact]
    public async Task PromptPlusMaxTokensBeyondTheContext_IsRefusedBeforeQueueing()
    {
        using var harness = new EngineHarness(new FakeModelOptions { MaxContext = 32 });

        var tooLong = await harness.SubmitAsync(TestUtil.Prompt(20), EngineHarness.Greedy(maxTokens: 13));
        var fullPrompt = await harness.SubmitAsync(TestUtil.Prompt(32), EngineHarness.Greedy());
        var fits = await harness.SubmitAsync(TestUtil.Prompt(20), EngineHarness.Greedy(maxTokens: 12));

        Assert.Equal(EngineErrorCode.ContextLengthExceeded, tooLong.Rejection?.Code);
        Assert.Equal("max_tokens", tooLong.Rejection?.Param);
        Assert.Equal(EngineErrorCode.ContextLengthExceeded, fullPrompt.Rejection?.Code);
        Assert.Equal("prompt", fullPrompt.Rejection?.Param);
        Assert.Equal(tooLong.Rejection, (await tooLong.CollectAsync()).Error);
        Assert.Equal(12, (await fits.CollectAsync()).Finished.CompletionTokens);
        Assert.All(harness.Executor.Steps.SelectMany(s => s), r => Assert.Equal(fits.SequenceId, r.SequenceId));
    }

    [Fact]
    public async Task FullAdmissionQueue_RefusesImmediatelyWithQueueFull_AndAcceptsAgainOnceDrained()
    {
        using var harness = new EngineHarness(new FakeModelOptions { ManualStepping = true }, new EngineOptions { MaxQueuedRequests = 2 });
        var executor = harness.Executor;
        var running = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 3));
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 1, "the first request has started");

        var queued1 = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 3));
        var queued2 = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 3));
        var refused = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 3));

        Assert.False(queued1.IsRejected);
        Assert.False(queued2.IsRejected);
        Assert.Equal(EngineErrorCode.QueueFull, refused.Rejection?.Code);
        Assert.Equal(2, harness.Engine.Stats.QueuedRequests);

        executor.RunFreely();
        foreach (var handle in new[] { running, queued1, queued2 })
        {
            await handle.CollectAsync();
        }

        Assert.Equal(0, harness.Engine.Stats.QueuedRequests);
        var later = await harness.SubmitAsync(TestUtil.Prompt(3), EngineHarness.Greedy(maxTokens: 3));
        Assert.Equal(FinishReason.Length, (await later.CollectAsync()).Finished.Reason);
    }

    [Fact]
    public async Task GenerationWithoutMaxTokens_StopsAtTheContextWindowWithLength()
    {
        using var harness = new EngineHarness(new FakeModelOptions { MaxContext = 16 });

        var result = await (await harness.SubmitAsync(TestUtil.Prompt(10), EngineHarness.Greedy())).CollectAsync();

        Assert.Equal(new FinishedEvent(FinishReason.Length, 10, 6), result.Finished);
        Assert.Equal(6, result.Tokens.Count);
        Assert.Equal(14, harness.Executor.Steps.SelectMany(s => s).Max(r => r.StartPosition));
    }

    [Fact]
    public async Task GreedyTokens_FollowTheModel_AndTextIsTheirDecoding()
    {
        var model = new FakeModelOptions();
        using var harness = new EngineHarness(model);
        var prompt = TestUtil.Prompt(5);

        var result = await (await harness.SubmitAsync(prompt, EngineHarness.Greedy(maxTokens: 8))).CollectAsync();

        var expected = new List<int>(prompt);
        for (int i = 0; i < 8; i++)
        {
            expected.Add(FakeModelExecutor.GreedyNextToken(expected, model));
        }

        Assert.Equal(expected.Skip(5), result.Tokens);
        Assert.Equal(string.Concat(result.Tokens.Select(FakeTokenTextDecoder.Letter)), result.Text);
        Assert.Equal(new FinishedEvent(FinishReason.Length, 5, 8), result.Finished);
    }

    [Fact]
    public async Task EosToken_FinishesWithStop_AddsNoText_UnlessIgnoreEos()
    {
        const int eos = 0;
        // Forces EOS as the third generated token.
        var model = new FakeModelOptions { EosTokenId = eos, Script = (tokens, prompt) => tokens.Count - prompt == 2 ? eos : null };
        using var harness = new EngineHarness(model);

        var stopped = await (await harness.SubmitAsync(TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 10))).CollectAsync();
        var ignoring = await (await harness.SubmitAsync(TestUtil.Prompt(4), new SamplingParams { Temperature = 0, MaxTokens = 5, IgnoreEos = true })).CollectAsync();

        Assert.Equal(new FinishedEvent(FinishReason.Stop, 4, 3), stopped.Finished);
        Assert.Equal(eos, stopped.Tokens[^1]);
        Assert.Equal(2, stopped.Text.Length);
        Assert.Equal(new FinishedEvent(FinishReason.Length, 4, 5), ignoring.Finished);
        Assert.Equal(eos, ignoring.Tokens[2]);
    }

    [Fact]
    public async Task StopString_EndsGeneration_WithTheTextBeforeIt()
    {
        // Generated token i is forced to 1 + i, which decodes to "bcdefg...".
        var model = new FakeModelOptions { Script = (tokens, prompt) => 1 + tokens.Count - prompt };
        using var harness = new EngineHarness(model);

        var result = await (await harness.SubmitAsync(TestUtil.Prompt(3), new SamplingParams { Temperature = 0, MaxTokens = 20, Stop = ["xyz", "de"] })).CollectAsync();

        Assert.Equal("bc", result.Text);
        Assert.Equal([1, 2, 3, 4], result.Tokens);
        Assert.Equal(new FinishedEvent(FinishReason.Stop, 3, 4), result.Finished);
        Assert.Single(harness.Executor.Released);
    }

    [Fact]
    public async Task InvalidRequests_AreRejectedWithTheOffendingParameter()
    {
        using var harness = new EngineHarness();

        var badTopP = await harness.SubmitAsync(TestUtil.Prompt(3), new SamplingParams { TopP = 0 });
        var emptyPrompt = await harness.SubmitAsync([], EngineHarness.Greedy());
        var badToken = await harness.SubmitAsync([1, 999], EngineHarness.Greedy());
        var badMedia = await harness.Engine.SubmitAsync(new GenerationRequest("m", TestUtil.Prompt(4), EngineHarness.Greedy())
        {
            Media = [new MediaEmbedding(2, 4, new float[16])],
        });

        Assert.Equal(("top_p", EngineErrorCode.InvalidRequest), (badTopP.Rejection?.Param, badTopP.Rejection!.Code));
        Assert.Equal("prompt", emptyPrompt.Rejection?.Param);
        Assert.Equal("prompt", badToken.Rejection?.Param);
        Assert.Equal("media", badMedia.Rejection?.Param);
        Assert.Empty(harness.Executor.Steps);
    }

    [Fact]
    public async Task Logprobs_AreStreamedForEveryToken()
    {
        using var harness = new EngineHarness();

        var result = await (await harness.SubmitAsync(TestUtil.Prompt(4), new SamplingParams { Temperature = 0, MaxTokens = 6, Logprobs = true, TopLogprobs = 3 })).CollectAsync();

        Assert.Equal(result.Tokens, result.Logprobs.Select(l => l.TokenId));
        Assert.All(result.Logprobs, l =>
        {
            Assert.Equal(3, l.TopLogprobs.Count);
            Assert.Equal(l.TokenId, l.TopLogprobs[0].TokenId); // greedy picks the most likely token
            Assert.True(l.Logprob < 0);
        });
    }

    [Fact]
    public async Task SlowReader_GetsCoalescedDeltas_AndNeverStallsTheStepLoop()
    {
        using var harness = new EngineHarness();

        var handle = await harness.SubmitAsync(TestUtil.Prompt(4), EngineHarness.Greedy(maxTokens: 40));
        await TestUtil.WaitUntilAsync(() => harness.Engine.Stats.Workers[0].Active == 0, "the request finished without a reader");
        var result = await handle.CollectAsync();

        Assert.Equal(1, result.DeltaCount);
        Assert.Equal(40, result.Tokens.Count);
        Assert.Equal(40, result.Text.Length);
    }

    [Fact]
    public async Task MediaEmbeddings_ReachThePrefillOnly_AndChangeTheOutput()
    {
        var model = new FakeModelOptions { HiddenSize = 4 };
        using var harness = new EngineHarness(model);
        var prompt = TestUtil.Prompt(6);

        var plain = await (await harness.SubmitAsync(prompt, EngineHarness.Greedy(maxTokens: 5))).CollectAsync();
        var withMedia = await harness.Engine.SubmitAsync(new GenerationRequest("m", prompt, EngineHarness.Greedy(maxTokens: 5))
        {
            Media = [new MediaEmbedding(1, 2, Enumerable.Range(0, 8).Select(i => i * 0.5f).ToArray())],
        });
        var mediaResult = await withMedia.CollectAsync();

        Assert.NotEqual(plain.Tokens, mediaResult.Tokens);
        var rows = harness.Executor.Steps.SelectMany(s => s).Where(r => r.SequenceId == withMedia.SequenceId).ToList();
        Assert.Equal(1, rows[0].MediaSpans);
        Assert.All(rows.Skip(1), r => Assert.Equal(0, r.MediaSpans));
    }

    [Fact]
    public async Task HiddenStateTokenIds_OfTheWholeVocabulary_CoverEveryFedBackTokenInOrderButNoPromptPosition()
    {
        var options = new FakeModelOptions { HiddenSize = 2 };
        using var harness = new EngineHarness(options);
        var everyId = Enumerable.Range(0, options.VocabSize).ToHashSet();

        var handle = await harness.Engine.SubmitAsync(
            new GenerationRequest("h", TestUtil.Prompt(5), EngineHarness.Greedy(maxTokens: 4)) { HiddenStateTokenIds = everyId });
        var result = await handle.CollectAsync();

        // The prompt's ids are in the set too, but only generated tokens are looked at: positions 5..7, the three
        // generated tokens fed back (the fourth, last one never is).
        Assert.Equal([5, 6, 7], result.Hidden.SelectMany(c => c.Positions));
        Assert.Equal(5, result.Hidden[0].StartPosition);
        var values = result.Hidden.SelectMany(c => c.Values.ToArray()).ToArray();
        Assert.Equal(new[] { 5, 6, 7 }.SelectMany(p => new[] { p * 10f, p * 10f + 1 }), values);
        var rows = harness.Executor.Steps.SelectMany(s => s).Where(r => r.SequenceId == handle.SequenceId).ToList();
        Assert.All(rows, r => Assert.Equal(!r.IsPrefill, r.WantHiddenStates));
    }

    [Fact]
    public async Task HiddenStateTokenIds_ReturnOnlyTheFedBackTokensInTheSet()
    {
        using var harness = new EngineHarness(new FakeModelOptions { HiddenSize = 2 });
        var plain = await (await harness.Engine.SubmitAsync(new GenerationRequest("p", TestUtil.Prompt(5), EngineHarness.Greedy(maxTokens: 6)))).CollectAsync();
        var wanted = new HashSet<int> { plain.Tokens[1], plain.Tokens[3] };

        var handle = await harness.Engine.SubmitAsync(new GenerationRequest("h", TestUtil.Prompt(5), EngineHarness.Greedy(maxTokens: 6)) { HiddenStateTokenIds = wanted });
        var result = await handle.CollectAsync();

        // Generated token i sits at position 5 + i and is fed back (all but the last), so its hidden state exists.
        var expected = Enumerable.Range(0, plain.Tokens.Count - 1).Where(i => wanted.Contains(plain.Tokens[i])).Select(i => 5 + i).ToArray();
        Assert.NotEmpty(expected);
        var positions = result.Hidden.SelectMany(c => c.Positions).ToArray();
        Assert.Equal(expected, positions);
        var values = result.Hidden.SelectMany(c => c.Values.ToArray()).ToArray();
        Assert.Equal(expected.SelectMany(p => new[] { p * 10f, p * 10f + 1 }), values);
        var rows = harness.Executor.Steps.SelectMany(s => s).Where(r => r.SequenceId == handle.SequenceId).ToList();
        Assert.Equal(expected.Length, rows.Count(r => r.WantHiddenStates));
    }
}
