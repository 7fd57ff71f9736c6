using MmServe.Abstractions;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// The shared-buffer decoder path (mmserve-tiny's "gqa" variant): sequences keep their KV slot from prefill to release,
/// so a join into a slot a leave freed copies no KV (the slot-move counter stays 0), and rows joining and leaving a
/// running batch get PyTorch's tokens; when most rows have left, the few remaining are moved down once and decode on unchanged; a
/// failed prefill holds no slot; the device path refuses the form clearly.
/// </summary>
public sealed class SharedKvExecutorTests(ReferenceBundle model) : IClassFixture<ReferenceBundle>
{
    private List<GoldenCase> TextCases => [.. model.Cases.Where(c => !c.HasMedia)];

    [Fact]
    public void RowsJoiningAndLeavingARunningBatch_KeepTheirTokens()
    {
        var cases = TextCases;
        Assert.True(cases.Count >= 6, $"only {cases.Count} text cases");
        using var executor = model.NewSharedKvExecutor();

        // Rows of different lengths leave at different steps while others join into the slots they free.
        var joins = cases.Select((_, i) => i < cases.Count / 2 ? 0 : 2 + (3 * i)).ToArray();
        var outputs = GreedyLoop.Run(executor, [.. cases.Select(c => c.PromptIds)], joins, 64, model.EosIds);

        for (int i = 0; i < cases.Count; i++)
        {
            Assert.True(cases[i].CompletionIds.SequenceEqual(outputs[i]), $"{cases[i].Id}: expected [{string.Join(",", cases[i].CompletionIds)}] got [{string.Join(",", outputs[i])}]");
        }

        Assert.Equal(0, executor.HeldSequences);
    }

    [Fact]
    public void AJoinIntoAHoleLeftByALeave_MovesNoKv()
    {
        var cases = TextCases;
        using var executor = model.NewSharedKvExecutor();
        var prompts = cases.Take(4).Select(c => c.PromptIds).ToArray();
        var output = new ForwardOutput();

        Step(executor, output, [.. prompts.Select((p, i) => new SequenceInput(i, p, 0, []))]);
        executor.Release(1); // a hole in slot 1, below rows 2 and 3
        Step(executor, output, [new SequenceInput(0, new[] { 5 }, prompts[0].Length, []), new SequenceInput(9, prompts[1], 0, [])]);
        Assert.Equal(4, executor.HeldSequences);
        Assert.Equal(0, executor.KvSlotMoves);
    }

    [Fact]
    public void WhenMostRowsHaveLeft_TheRestMoveDownOnce_AndKeepTheirTokens()
    {
        var cases = TextCases;
        using var executor = model.NewSharedKvExecutor();
        // Ten short rows (cut at 2 tokens, other prompts) fill the low slots, two full rows sit above them; after the short rows leave,
        // the two long ones move into the holes and must still decode PyTorch's tokens.
        var prompts = Enumerable.Range(0, 10).Select(i => cases[2 + (i % (cases.Count - 2))].PromptIds).Concat(cases.Take(2).Select(c => c.PromptIds)).ToArray();
        var limits = Enumerable.Repeat(2, 10).Concat([64, 64]).ToArray();
        var outputs = RunWithLimits(executor, prompts, limits);

        Assert.True(executor.KvSlotMoves is > 0 and <= 2, $"{executor.KvSlotMoves} moves");
        for (int i = 0; i < 2; i++)
        {
            Assert.True(cases[i].CompletionIds.SequenceEqual(outputs[10 + i]), $"{cases[i].Id} after its move: expected [{string.Join(",", cases[i].CompletionIds)}] got [{string.Join(",", outputs[10 + i])}]");
        }
    }

    [Fact]
    public void ACancelledPrefill_HoldsNoSlot()
    {
        using var executor = model.NewSharedKvExecutor();
        var output = new ForwardOutput();
        var inputs = new List<SequenceInput> { new(1, TextCases[0].PromptIds, 0, []) };
        output.Prepare(inputs, executor.Info.VocabSize, executor.Info.HiddenSize);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => executor.Forward(inputs, output, cancelled.Token));
        Assert.Equal(0, executor.HeldSequences);
    }

    [Fact]
    public void TheDevicePath_RefusesASharedBufferDecoder_NamingIt()
    {
        var error = Assert.Throws<NotSupportedException>(() => new OnnxModelExecutor(
            model.GqaBundle, model.Embed, model.GqaDecoder, 8, ownsSessions: false, deviceMemory: () => new Device.HostMemory()));
        Assert.Contains("decoder_gqa", error.Message, StringComparison.Ordinal);
    }

    private static void Step(OnnxModelExecutor executor, ForwardOutput output, List<SequenceInput> inputs)
    {
        output.Prepare(inputs, executor.Info.VocabSize, executor.Info.HiddenSize);
        executor.Forward(inputs, output, CancellationToken.None);
    }

    /// <summary>Greedy decoding of all prompts from step 0, row i leaving after limits[i] tokens or at EOS.</summary>
    private List<int>[] RunWithLimits(OnnxModelExecutor executor, int[][] prompts, int[] limits)
    {
        var outputs = prompts.Select(_ => new List<int>()).ToArray();
        var output = new ForwardOutput();
        var eos = model.EosIds;
        while (true)
        {
            var rows = Enumerable.Range(0, prompts.Length).Where(i => outputs[i].Count < limits[i] && (outputs[i].Count == 0 || !eos.Contains(outputs[i][^1]))).ToList();
            if (rows.Count == 0)
            {
                return outputs;
            }

            var inputs = rows.Select(i => outputs[i].Count == 0
                ? new SequenceInput(i, prompts[i], 0, [])
                : new SequenceInput(i, new[] { outputs[i][^1] }, prompts[i].Length + outputs[i].Count - 1, [])).ToList();
            Step(executor, output, inputs);
            for (int r = 0; r < rows.Count; r++)
            {
                var logits = output.GetLogits(r);
                outputs[rows[r]].Add(GreedyLoop.ArgMax(logits));
                if (outputs[rows[r]].Count >= limits[rows[r]] || eos.Contains(outputs[rows[r]][^1]))
                {
                    executor.Release(rows[r]);
                }
            }
        }
    }
}
