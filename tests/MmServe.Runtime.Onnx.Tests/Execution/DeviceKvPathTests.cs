using MmServe.Abstractions;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// The executor's device path (KV cache, embeddings, logits and hidden states in device buffers bound through
/// IOBinding; repacks as 2-D copies within the device) run on CPU memory: it must give bit-identical logits and hidden
/// states to the host path at every step, through prefills with media, rows joining, leaving and pausing. On CUDA the
/// same code runs with CudaMemory in place of HostMemory (not exercised here: no GPU).
/// </summary>
public sealed class DeviceKvPathTests : IClassFixture<ReferenceBundle>
{
    private readonly ReferenceBundle _model;

    public DeviceKvPathTests(ReferenceBundle model) => _model = model;

    [Fact]
    public void DevicePath_ReportsWhereItsKvCacheLives()
    {
        using var host = _model.NewExecutor();
        using var device = _model.NewDevicePathExecutor();
        Assert.Equal("host", host.KvCacheLocation);
        Assert.Equal("cpu", device.KvCacheLocation);
    }

    [Fact]
    public void DevicePath_TextGoldenCases_MatchPyTorchTokens()
    {
        var cases = _model.Cases.Where(c => !c.HasMedia).Take(4).ToList();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            using var executor = _model.NewDevicePathExecutor();
            var output = new ForwardOutput();
            var tokens = new List<int>();
            var input = new SequenceInput(1, c.PromptIds, 0, []);
            while (tokens.Count < c.CompletionIds.Length)
            {
                output.Prepare([input], executor.Info.VocabSize, executor.Info.HiddenSize);
                executor.Forward([input], output, CancellationToken.None);
                tokens.Add(ArgMax(output.GetLogits(0)));
                input = new SequenceInput(1, new[] { tokens[^1] }, c.PromptIds.Length + tokens.Count - 1, []);
            }

            Assert.Equal(c.CompletionIds, tokens);
        }
    }

    [Fact]
    public void DevicePath_GivesExactlyTheHostPathsLogitsAndHiddenStates_InAChangingBatch()
    {
        var prompts = _model.Cases.Where(c => !c.HasMedia).Take(6).Select(c => c.PromptIds).ToList();
        // One prompt carries a media span (random embeddings over its positions 2..5), spliced into the device embeddings.
        var random = new Random(7);
        var mediaEmbeds = Enumerable.Range(0, 4 * _model.Bundle.Manifest.Decoder.HiddenSize).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var media = new Dictionary<int, IReadOnlyList<MediaEmbedding>> { [1] = [new MediaEmbedding(2, 4, mediaEmbeds)] };
        int[] joinStep = [0, 0, 2, 3, 3, 7];
        int[] maxNew = [12, 5, 9, 3, 14, 6];

        using var host = _model.NewExecutor();
        using var device = _model.NewDevicePathExecutor();
        var hostOut = new ForwardOutput();
        var deviceOut = new ForwardOutput();
        var generated = prompts.Select(_ => new List<int>()).ToArray();
        var done = new bool[prompts.Count];
        int comparedRows = 0;
        for (int step = 0; done.Contains(false); step++)
        {
            var rows = new List<int>();
            var inputs = new List<SequenceInput>();
            for (int i = 0; i < prompts.Count; i++)
            {
                // Row 4 sits out steps 6 and 7 (its KV is detached, then packed back).
                if (done[i] || joinStep[i] > step || (i == 4 && step is 6 or 7))
                {
                    continue;
                }

                rows.Add(i);
                bool wantHidden = i % 2 == 1;
                inputs.Add(generated[i].Count == 0
                    ? new SequenceInput(i, prompts[i], 0, media.GetValueOrDefault(i, []), wantHidden)
                    : new SequenceInput(i, new[] { generated[i][^1] }, prompts[i].Length + generated[i].Count - 1, [], wantHidden));
            }

            if (inputs.Count == 0)
            {
                continue;
            }

            hostOut.Prepare(inputs, host.Info.VocabSize, host.Info.HiddenSize);
            deviceOut.Prepare(inputs, device.Info.VocabSize, device.Info.HiddenSize);
            host.Forward(inputs, hostOut, CancellationToken.None);
            device.Forward(inputs, deviceOut, CancellationToken.None);
            for (int r = 0; r < rows.Count; r++)
            {
                int i = rows[r];
                Assert.True(hostOut.GetLogits(r).SequenceEqual(deviceOut.GetLogits(r)), $"step {step}, sequence {i}: logits differ");
                Assert.True(hostOut.GetHiddenStates(r).SequenceEqual(deviceOut.GetHiddenStates(r)), $"step {step}, sequence {i}: hidden states differ");
                comparedRows++;
                generated[i].Add(ArgMax(hostOut.GetLogits(r)));
                if (generated[i].Count >= maxNew[i])
                {
                    done[i] = true;
                    host.Release(i);
                    device.Release(i);
                }
            }

            Assert.True(step < 1000, "decode loop did not terminate");
        }

        Assert.Equal(maxNew.Sum(), comparedRows);
        Assert.Equal(0, device.HeldSequences);
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
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
