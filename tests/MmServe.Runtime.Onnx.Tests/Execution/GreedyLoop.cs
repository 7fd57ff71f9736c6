using MmServe.Abstractions;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>Greedy decoding of several prompts through one executor, as the engine batches them.</summary>
public static class GreedyLoop
{
    /// <summary>
    /// A minimal continuous-batching loop: each step prefills newcomers (prompt i joins at step joinStep[i]) and
    /// decodes running rows; a row leaves (is released) at EOS or after maxNew tokens. afterStep sees each step's index.
    /// </summary>
    public static List<int>[] Run(
        OnnxModelExecutor executor, IReadOnlyList<int[]> prompts, int[] joinStep, int maxNew, IReadOnlySet<int> eosIds, Action<int>? afterStep = null)
    {
        var outputs = prompts.Select(_ => new List<int>()).ToArray();
        var done = new bool[prompts.Count];
        var output = new ForwardOutput();
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

            if (inputs.Count > 0)
            {
                output.Prepare(inputs, executor.Info.VocabSize, executor.Info.HiddenSize);
                executor.Forward(inputs, output, CancellationToken.None);
                for (int r = 0; r < rows.Count; r++)
                {
                    int i = rows[r];
                    var logits = output.GetLogits(r);
                    int best = ArgMax(logits);

                    outputs[i].Add(best);
                    if (eosIds.Contains(best) || outputs[i].Count >= maxNew)
                    {
                        done[i] = true;
                        executor.Release(i);
                    }
                }
            }

            afterStep?.Invoke(step);
            Assert.True(step < 10_000, "decode loop did not terminate");
        }

        return outputs;
    }

    /// <summary>The index of the largest logit (the first of equal ones): the greedy token.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int v = 1; v < logits.Length; v++)
        {
            if (logits[v] > logits[best])
            {
                best = v;
            }
        }

        return best;
    }
}
