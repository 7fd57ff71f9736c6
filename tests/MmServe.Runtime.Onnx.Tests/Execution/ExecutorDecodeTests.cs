using MmServe.Abstractions;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// The ONNX executor decodes golden text prompts to PyTorch's exact tokens, alone and in a continuously
/// changing batch (rows joining at different steps, leaving when done), which exercises prefill, repacking
/// and the zero-copy steady state — for both decoder forms: "concat" (present = past ++ new, repacked when rows
/// join or leave) and "shared" (GroupQueryAttention writing each sequence's slot of one buffer in place).
/// </summary>
public sealed class ExecutorDecodeTests : IClassFixture<ReferenceBundle>
{
    private readonly ReferenceBundle _model;

    public ExecutorDecodeTests(ReferenceBundle model) => _model = model;

    [Theory]
    [InlineData("concat")]
    [InlineData("shared")]
    public void TextGoldenCases_Alone_MatchPyTorchTokens(string form)
    {
        var cases = _model.Cases.Where(c => !c.HasMedia).ToList();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            using var executor = _model.NewExecutor(form);
            var output = Greedy(executor, [c.PromptIds], [0], c.CompletionIds.Length + 4)[0];
            Assert.True(c.CompletionIds.SequenceEqual(output), $"{c.Id}: expected [{string.Join(",", c.CompletionIds)}] got [{string.Join(",", output)}]");
        }
    }

    [Theory]
    [InlineData("concat")]
    [InlineData("shared")]
    public void TextGoldenCases_JoiningARunningBatch_MatchPyTorchTokens(string form)
    {
        var cases = _model.Cases.Where(c => !c.HasMedia).ToList();
        using var executor = _model.NewExecutor(form);
        // Staggered arrivals: several prefills share a step, others join while rows are mid-decode.
        var joins = cases.Select((_, i) => i % 3 == 0 ? 0 : i).ToArray();
        var outputs = Greedy(executor, [.. cases.Select(c => c.PromptIds)], joins, 64);
        for (int i = 0; i < cases.Count; i++)
        {
            Assert.True(cases[i].CompletionIds.SequenceEqual(outputs[i]), $"{cases[i].Id} in a batch: expected [{string.Join(",", cases[i].CompletionIds)}] got [{string.Join(",", outputs[i])}]");
        }

        Assert.Equal(0, executor.HeldSequences);
    }

    private List<int>[] Greedy(OnnxModelExecutor executor, IReadOnlyList<int[]> prompts, int[] joinStep, int maxNew) =>
        GreedyLoop.Run(executor, prompts, joinStep, maxNew, _model.EosIds);
}
