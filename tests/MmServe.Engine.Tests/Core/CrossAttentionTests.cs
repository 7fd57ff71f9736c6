using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

/// <summary>
/// Gated cross-attention sequences (Flamingo family) through the real engine over the fake executor: the media reach
/// the executor on a sequence's prefill row only, sequences with different item counts (or none) join and leave a
/// running batch without changing each other's tokens, and every way out (finish, cancel, failure) frees the
/// per-sequence cross-attention state.
/// </summary>
public sealed class CrossAttentionTests
{
    private const int Width = 4;
    private const int TokensPerItem = 3;
    private static readonly CrossAttentionLimits Limits = new(TokensPerItem, Width, MaxItems: 3);

    private static FakeModelOptions CrossAttentionModel(bool manual = false) =>
        new() { CrossAttention = Limits, HiddenSize = Width, VocabSize = 64, MaxBatchSize = 16, ManualStepping = manual };

    private static CrossAttentionMedia Media(int items, int salt, int firstMarker = 1) =>
        new([.. Enumerable.Range(0, items).Select(i => firstMarker + (2 * i))],
            Enumerable.Range(0, items * TokensPerItem * Width).Select(i => (float)Math.Sin(i + (salt * 17))).ToArray(), TokensPerItem, Width);

    private static ValueTask<GenerationHandle> SubmitAsync(
        EngineHarness harness, CrossAttentionMedia? media, int maxTokens, string id, CancellationToken ct = default) =>
        harness.Engine.SubmitAsync(new GenerationRequest(id, TestUtil.Prompt(8), EngineHarness.Greedy(maxTokens)) { CrossAttention = media }, ct);

    private static async Task<IReadOnlyList<int>> AloneAsync(CrossAttentionMedia? media, int maxTokens)
    {
        using var harness = new EngineHarness(CrossAttentionModel());
        return (await (await SubmitAsync(harness, media, maxTokens, "alone")).CollectAsync()).Tokens;
    }

    [Fact]
    public async Task SequencesWithDifferentItemCounts_JoinAndLeaveARunningBatch_WithTheirAloneTokens()
    {
        CrossAttentionMedia?[] media = [Media(2, 1), Media(1, 2), null, Media(3, 3)];
        int[] budgets = [12, 4, 9, 7];
        using var harness = new EngineHarness(CrossAttentionModel(manual: true));
        var executor = harness.Executor;

        var handles = new List<GenerationHandle> { await SubmitAsync(harness, media[0], budgets[0], "a") };
        executor.AllowSteps(2);
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 3, "a is decoding");
        for (int i = 1; i < media.Length; i++)
        {
            handles.Add(await SubmitAsync(harness, media[i], budgets[i], $"s{i}"));
            executor.AllowSteps(1);
            await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 3 + i, $"s{i} was admitted");
        }

        executor.RunFreely();
        var results = await Task.WhenAll(handles.Select(h => h.CollectAsync()));

        for (int i = 0; i < media.Length; i++)
        {
            Assert.Equal(budgets[i], results[i].Finished.CompletionTokens);
            Assert.Equal(await AloneAsync(media[i], budgets[i]), results[i].Tokens);
            var rows = executor.Steps.SelectMany(s => s).Where(r => r.SequenceId == handles[i].SequenceId).ToList();
            Assert.True(rows[0].IsPrefill);
            Assert.Equal(media[i]?.Items ?? 0, rows[0].CrossItems);
            Assert.All(rows.Skip(1), r => Assert.Equal(0, r.CrossItems));
        }

        Assert.Empty(executor.Violations);
        Assert.Equal(media.Length, executor.Released.Count);
        Assert.Equal(0, executor.LiveCrossAttentionStates);
        Assert.Equal(0, executor.LiveSequences);
    }

    [Fact]
    public async Task TheMediaAndWhereTheirMarkersSit_ConditionTheTokens()
    {
        var one = await AloneAsync(Media(2, 1), 8);

        Assert.NotEqual(one, await AloneAsync(Media(2, 2), 8));
        Assert.NotEqual(one, await AloneAsync(Media(2, 1, firstMarker: 2), 8));
    }

    [Fact]
    public async Task CancellingMidDecode_FreesTheCrossAttentionStateBeforeTheNextStep()
    {
        using var harness = new EngineHarness(CrossAttentionModel(manual: true));
        var executor = harness.Executor;
        using var cts = new CancellationTokenSource();
        var cancelled = await SubmitAsync(harness, Media(3, 7), 100, "cancelled", cts.Token);
        var survivor = await SubmitAsync(harness, Media(1, 8), 6, "survivor");
        executor.AllowSteps(2);
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 3, "the third step is running");
        Assert.Equal(2, executor.LiveCrossAttentionStates);

        await cts.CancelAsync();
        executor.AllowSteps(1);
        await TestUtil.WaitUntilAsync(() => executor.Released.Any(r => r.SequenceId == cancelled.SequenceId), "the cancelled sequence is released");

        Assert.Equal(3, executor.Released.Single(r => r.SequenceId == cancelled.SequenceId).ForwardCallsBefore);
        Assert.Equal(1, executor.LiveCrossAttentionStates);
        Assert.Equal(FinishReason.Cancelled, (await cancelled.CollectAsync()).Finished.Reason);
        executor.RunFreely();
        Assert.Equal(6, (await survivor.CollectAsync()).Finished.CompletionTokens);
        Assert.Equal(0, executor.LiveCrossAttentionStates);
        Assert.Equal(0, executor.LiveSequences);
        Assert.Empty(executor.Violations);
    }

    [Fact]
    public async Task AFailedStep_FreesTheCrossAttentionStateOfItsSequences()
    {
        int calls = 0;
        using var harness = new EngineHarness(new FakeModelOptions
        {
            CrossAttention = Limits,
            HiddenSize = Width,
            VocabSize = 64,
            FailWhen = _ => Interlocked.Increment(ref calls) == 3,
        });

        var result = await (await SubmitAsync(harness, Media(2, 1), 10, "failing")).CollectAsync();

        Assert.Equal(EngineErrorCode.Internal, result.Error.Code);
        Assert.Equal(0, harness.Executor.LiveCrossAttentionStates);
        Assert.Single(harness.Executor.Released);
    }

    [Fact]
    public async Task TooManyItems_WrongShapes_AndMarkersPastThePrompt_AreRefusedBeforeAnyStep()
    {
        using var harness = new EngineHarness(CrossAttentionModel());

        var tooMany = await SubmitAsync(harness, Media(4, 1), 4, "many");
        var narrow = await SubmitAsync(harness, new CrossAttentionMedia([1], new float[TokensPerItem * 2], TokensPerItem, 2), 4, "narrow");
        var outside = await SubmitAsync(harness, Media(1, 1, firstMarker: 8), 4, "outside");

        Assert.Contains("at most 3", tooMany.Rejection?.Message, StringComparison.Ordinal);
        Assert.Equal(EngineErrorCode.InvalidRequest, narrow.Rejection?.Code);
        Assert.Contains("outside the prompt", outside.Rejection?.Message, StringComparison.Ordinal);
        Assert.All([tooMany, narrow, outside], h => Assert.Equal("media", h.Rejection?.Param));
        Assert.Empty(harness.Executor.Steps);
    }

    [Fact]
    public async Task AModelWithoutCrossAttention_RefusesCrossAttentionMedia()
    {
        using var harness = new EngineHarness();

        var handle = await SubmitAsync(harness, Media(1, 1), 3, "x");

        Assert.Equal("media", handle.Rejection?.Param);
        Assert.Empty(harness.Executor.Steps);
    }

    [Fact]
    public void ItemAt_IsTheMostRecentMarkerAtOrBeforeThePosition()
    {
        var media = new CrossAttentionMedia([2, 5], new float[2 * TokensPerItem * Width], TokensPerItem, Width);

        Assert.Equal([-1, -1, 0, 0, 0, 1, 1, 1], Enumerable.Range(0, 8).Select(media.ItemAt));
        Assert.Throws<ArgumentException>(() => new CrossAttentionMedia([3, 3], new float[2 * TokensPerItem * Width], TokensPerItem, Width));
        Assert.Throws<ArgumentException>(() => new CrossAttentionMedia([1], new float[5], TokensPerItem, Width));
    }
}
