using System.IO.Compression;
using System.Runtime.InteropServices;
using MmServe.Abstractions;
using MmServe.Runtime.Onnx.EncoderDecoder;

namespace MmServe.Runtime.Onnx.Tests.EncoderDecoder;

/// <summary>One sequence of a <see cref="Seq2SeqGreedyLoop"/> run: its decoder prompt, encoder output and the step it joins at.</summary>
internal sealed record Seq2SeqPlanItem(int[] Prompt, EncoderOutput Encoder, int JoinStep);

/// <summary>
/// A minimal step loop over an <see cref="OnnxEncoderDecoderExecutor"/>: each sequence joins at its step, decodes
/// greedily (argmax after the executor's logit rules) to EOS or the token limit, and is released.
/// </summary>
internal static class Seq2SeqGreedyLoop
{
    public static List<int[]> Run(OnnxEncoderDecoderExecutor executor, IReadOnlyList<Seq2SeqPlanItem> plan, int vocab, int eos, int maxNewTokens)
    {
        var generated = plan.Select(_ => new List<int>()).ToList();
        var started = new bool[plan.Count];
        var done = new bool[plan.Count];
        var output = new ForwardOutput();
        for (int step = 0; done.Contains(false); step++)
        {
            var inputs = new List<SequenceInput>();
            var rows = new List<int>();
            for (int i = 0; i < plan.Count; i++)
            {
                var item = plan[i];
                if (done[i] || item.JoinStep > step)
                {
                    continue;
                }

                rows.Add(i);
                if (!started[i])
                {
                    started[i] = true;
                    inputs.Add(new SequenceInput(i + 1, item.Prompt, 0, []) { Encoder = item.Encoder });
                }
                else
                {
                    inputs.Add(new SequenceInput(i + 1, new[] { generated[i][^1] }, item.Prompt.Length + generated[i].Count - 1, []));
                }
            }

            if (inputs.Count == 0)
            {
                continue;
            }

            output.Prepare(inputs, vocab, 0);
            executor.Forward(inputs, output, CancellationToken.None);
            for (int r = 0; r < rows.Count; r++)
            {
                var logits = output.GetLogits(r);
                int next = 0;
                for (int v = 1; v < logits.Length; v++)
                {
                    if (logits[v] > logits[next])
                    {
                        next = v;
                    }
                }

                int i = rows[r];
                generated[i].Add(next);
                if (next == eos || generated[i].Count == maxNewTokens)
                {
                    done[i] = true;
                    executor.Release(i + 1);
                }
            }
        }

        return [.. generated.Select(g => g.ToArray())];
    }

    /// <summary>A fixture tensor: gzip of raw little-endian float32.</summary>
    public static float[] ReadFloats(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        gzip.CopyTo(bytes);
        return MemoryMarshal.Cast<byte, float>(bytes.GetBuffer().AsSpan(0, (int)bytes.Length)).ToArray();
    }
}
