using MmServe.Abstractions;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// The ONNX executor decodes golden text prompts to PyTorch's exact tokens, alone and in a continuously
/// changing batch (rows joining at different steps, leaving when done), which exercises prefill, repacking
/// and the zero-copy steady state.
/// </summary>
public sealed class ExecutorDecodeTests : IClassFixture<ReferenceBundle>
{
    private readonly ReferenceBundle _model;

    public ExecutorDecodeTests(ReferenceBundle model) => _model = model;

    [Fact]
    public void TextGoldenCases_Alone_MatchPyTorchTokens()
    {
        var cases = _model.Cases.Where(c => !c.HasMedia).ToList();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            using var executor = _model.NewExecutor();
            var output = Greedy(executor, [c.PromptIds], [0], c.CompletionIds.Length + 4)[0];
            Assert.True(c.CompletionIds.SequenceEqual(output), $"{c.Id}: expected [{string.Join(",", c.CompletionIds)}] got [{string.Join(",", output)}]");
        }
    }

    [Fact]
    public void TextGoldenCases_JoiningARunningBatch_MatchPyTorchTokens()
    {
        var cases = _model.Cases.Where(c => !c.HasMedia).ToList();
        using var executor = _model.NewExecutor();
        // Staggered arrivals: several prefills share a step, others join while rows are mid-decode.
        var joins = cases.Select((_, i) => i % 3 == 0 ? 0 : i).ToArray();
        var outputs = Greedy(executor, [.. cases.Select(c => c.PromptIds)], joins, 64);
        for (int i = 0; i < cases.Count; i++)
        {
            Assert.True(cases[i].CompletionIds.SequenceEqual(outputs[i]), $"{cases[i].Id} in a batch: expected [{string.Join(",", cases[i].CompletionIds)}] got [{string.Join(",", outputs[i])}]");
        }

        Assert.Equal(0, executor.HeldSequences);
    }

    /// <summary>A minimal continuous-batching loop: each step prefills newcomers and decodes running rows.</summary>
    private List<int>[] Greedy(OnnxModelExecutor executor, IReadOnlyList<int[]> prompts, int[] joinStep, int maxNew)
    {
        var eos = _model.Bundle.Manifest.Tokenizer.EosTokens.Count;
        var outputs = prompts.Select(_ => new List<int>()).ToArray();
        var done = new bool[prompts.Count];
        var output = new ForwardOutput();
        var eosIds = EosIds();
        for (int step = 0; done.Contains(false); step++)
        {
            var rows = new List<int>();
            var inputs = new List<SequenceInput>();
            for (int i = 0; i < prompts.Count; i++)
            {
                if (done[i] || joinStep[i] > step)
                {
                    continue;
                }

                rows.Add(i);
                inputs.Add(outputs[i].Count == 0
                    ? new SequenceInput(i, prompts[i], 0, [])
                    : new SequenceInput(i, new[] { outputs[i][^1] }, prompts[i].Length + outputs[i].Count - 1, []));
            }

            if (inputs.Count == 0)
            {
                continue;
            }

            output.Prepare(inputs, executor.Info.VocabSize, executor.Info.HiddenSize);
            executor.Forward(inputs, output, CancellationToken.None);
            for (int r = 0; r < rows.Count; r++)
            {
                int i = rows[r];
                var logits = output.GetLogits(r);
                int best = 0;
                for (int v = 1; v < logits.Length; v++)
                {
                    if (logits[v] > logits[best])
                    {
                        best = v;
                    }
                }

                outputs[i].Add(best);
                if (eosIds.Contains(best) || outputs[i].Count >= maxNew)
                {
                    done[i] = true;
                    executor.Release(i);
                }
            }

            Assert.True(step < 10_000, "decode loop did not terminate");
        }

        return outputs;
    }

    private HashSet<int> EosIds()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(_model.Bundle.TokenizerPath));
        var eos = _model.Bundle.Manifest.Tokenizer.EosTokens.ToHashSet();
        return [.. doc.RootElement.GetProperty("added_tokens").EnumerateArray()
            .Where(t => eos.Contains(t.GetProperty("content").GetString()!))
            .Select(t => t.GetProperty("id").GetInt32())];
    }
}
