using MmServe.Abstractions;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Core;

/// <summary>
/// Encoder-decoder sequences through the real engine over the fake executor: the encoder output reaches the
/// executor on a sequence's first step only, sequences with different encoder lengths join and leave a running
/// batch without changing each other's tokens, and every way out (finish, cancel, refusal) frees the cross state.
/// </summary>
public sealed class EncoderDecoderTests
{
    private const int Width = 3;
    private static readonly int[] StartTokens = [5, 7, 9, 11];

    private static FakeModelOptions EncoderDecoder(bool manual = false) =>
        new() { EncoderWidth = Width, VocabSize = 64, MaxBatchSize = 16, ManualStepping = manual };

    private static EncoderOutput Encoded(int length, int salt) =>
        new(Enumerable.Range(0, length * Width).Select(i => (float)Math.Sin(i + (salt * 31))).ToArray(), length, Width);

    private static ValueTask<GenerationHandle> SubmitAsync(
        EngineHarness harness, EncoderOutput? encoder, int maxTokens, string id, CancellationToken ct = default) =>
        harness.Engine.SubmitAsync(new GenerationRequest(id, StartTokens, EngineHarness.Greedy(maxTokens)) { Encoder = encoder }, ct);

    private static async Task<IReadOnlyList<int>> AloneAsync(EncoderOutput encoder, int maxTokens)
    {
        using var harness = new EngineHarness(EncoderDecoder());
        return (await (await SubmitAsync(harness, encoder, maxTokens, "alone")).CollectAsync()).Tokens;
    }

    [Fact]
    public async Task SequencesWithDifferentEncoderLengths_JoinAndLeaveARunningBatch_WithTheirAloneTokens()
    {
        var encoders = new[] { Encoded(6, 1), Encoded(3, 2), Encoded(1500, 3), Encoded(9, 4) };
        int[] budgets = [12, 4, 9, 7];
        using var harness = new EngineHarness(EncoderDecoder(manual: true));
        var executor = harness.Executor;

        var first = await SubmitAsync(harness, encoders[0], budgets[0], "a");
        executor.AllowSteps(2);
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 3, "a is decoding");
        var joiners = new List<GenerationHandle> { first };
        for (int i = 1; i < encoders.Length; i++)
        {
            joiners.Add(await SubmitAsync(harness, encoders[i], budgets[i], $"s{i}"));
            executor.AllowSteps(1);
            await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 3 + i, $"s{i} was admitted");
        }

        executor.RunFreely();
        var results = await Task.WhenAll(joiners.Select(h => h.CollectAsync()));

        for (int i = 0; i < encoders.Length; i++)
        {
            Assert.Equal(budgets[i], results[i].Finished.CompletionTokens);
            Assert.Equal(await AloneAsync(encoders[i], budgets[i]), results[i].Tokens);
            var rows = executor.Steps.SelectMany(s => s).Where(r => r.SequenceId == joiners[i].SequenceId).ToList();
            Assert.Equal(encoders[i].Length, rows[0].EncoderLength);
            Assert.True(rows[0].IsPrefill);
            Assert.All(rows.Skip(1), r => Assert.Equal(0, r.EncoderLength));
        }

        // A running batch held several encoder lengths at once, and one left while others went on.
        Assert.Contains(executor.Steps, s => s.Where(r => r.IsPrefill).Any(r => r.EncoderLength == 1500) && s.Count >= 3);
        Assert.Equal(encoders.Length, executor.Released.Count);
        Assert.Equal(0, executor.LiveEncoderStates);
    }

    [Fact]
    public async Task TheEncoderOutputConditionsTheTokens()
    {
        var one = await AloneAsync(Encoded(5, 1), 8);
        var other = await AloneAsync(Encoded(5, 2), 8);

        Assert.NotEqual(one, other);
    }

    [Fact]
    public async Task CancellingMidDecode_FreesTheEncoderStateBeforeTheNextStep()
    {
        using var harness = new EngineHarness(EncoderDecoder(manual: true));
        var executor = harness.Executor;
        using var cts = new CancellationTokenSource();
        var cancelled = await SubmitAsync(harness, Encoded(1500, 7), 100, "cancelled", cts.Token);
        var survivor = await SubmitAsync(harness, Encoded(20, 8), 6, "survivor");
        executor.AllowSteps(2);
        await TestUtil.WaitUntilAsync(() => executor.ForwardCalls == 3, "the third step is running");
        Assert.Equal(2, executor.LiveEncoderStates);

        await cts.CancelAsync();
        executor.AllowSteps(1);
        await TestUtil.WaitUntilAsync(() => executor.Released.Any(r => r.SequenceId == cancelled.SequenceId), "the cancelled sequence is released");

        Assert.Equal(3, executor.Released.Single(r => r.SequenceId == cancelled.SequenceId).ForwardCallsBefore);
        Assert.Equal(1, executor.LiveEncoderStates);
        Assert.Equal(FinishReason.Cancelled, (await cancelled.CollectAsync()).Finished.Reason);
        executor.RunFreely();
        Assert.Equal(6, (await survivor.CollectAsync()).Finished.CompletionTokens);
        Assert.Equal(0, executor.LiveEncoderStates);
        Assert.Equal(0, executor.LiveSequences);
    }

    [Fact]
    public async Task AFailedStep_FreesTheEncoderStateOfItsSequences()
    {
        int calls = 0;
        using var harness = new EngineHarness(new FakeModelOptions
        {
            EncoderWidth = Width,
            VocabSize = 64,
            FailWhen = _ => Interlocked.Increment(ref calls) == 3,
        });

        var result = await (await SubmitAsync(harness, Encoded(4, 1), 10, "failing")).CollectAsync();

        Assert.Equal(EngineErrorCode.Internal, result.Error.Code);
        Assert.Equal(0, harness.Executor.LiveEncoderStates);
        Assert.Single(harness.Executor.Released);
    }

    [Fact]
    public async Task AnEncoderDecoderModel_RefusesARequestWithoutEncoderOutput_OrOfTheWrongWidth()
    {
        using var harness = new EngineHarness(EncoderDecoder());

        var missing = await SubmitAsync(harness, null, 4, "missing");
        var wide = await SubmitAsync(harness, new EncoderOutput(new float[8], 2, 4), 4, "wide");

        Assert.Equal("encoder", missing.Rejection?.Param);
        Assert.Equal(EngineErrorCode.InvalidRequest, missing.Rejection?.Code);
        Assert.Contains("expects 3", wide.Rejection?.Message, StringComparison.Ordinal);
        Assert.Empty(harness.Executor.Steps);
    }

    [Fact]
    public async Task ADecoderOnlyModel_RefusesAnEncoderOutput()
    {
        using var harness = new EngineHarness();

        var handle = await harness.Engine.SubmitAsync(
            new GenerationRequest("x", TestUtil.Prompt(3), EngineHarness.Greedy(3)) { Encoder = Encoded(2, 1) });

        Assert.Equal("encoder", handle.Rejection?.Param);
        Assert.Empty(harness.Executor.Steps);
    }

    [Fact]
    public void EncoderOutput_MustHoldLengthTimesWidthValues()
    {
        Assert.Throws<ArgumentException>(() => new EncoderOutput(new float[5], 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EncoderOutput(ReadOnlyMemory<float>.Empty, 0, 3));
    }
}
