using System.Diagnostics;
using System.Globalization;
using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.CrossAttention;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.StepBench;

/// <summary>
/// --mode cross-attention: the executor of a gated cross-attention bundle (OnnxCrossAttentionExecutor; Flamingo,
/// IDEFICS layouts, e.g. models/families/tiny-flamingo). For each batch size B: B prompts of --prompt tokens, each with
/// one media item (its features random: the executor's work does not depend on them), prefilled, then --steps decode
/// steps of all B rows timed together, then released; one executor per batch size, as a worker keeps one, so from the
/// second round on new sequences find the KV arrays of finished ones. Prints ms per decode step and the managed bytes
/// a decode step allocates per sequence (over the whole decode, so growing KV arrays count), medians over rounds.
/// </summary>
internal static class CrossAttentionStepBench
{
    public static void Run(StepOptions options, SessionFactory sessions)
    {
        var bundle = BundleLoader.Load(options.Bundle);
        var manifest = bundle.Manifest;
        var cross = manifest.CrossAttention ?? throw new ArgumentException($"{options.Bundle} has no cross_attention section");
        if (options.Prompt + options.Steps > manifest.MaxContext)
        {
            throw new ArgumentException($"--prompt {options.Prompt} + --steps {options.Steps} exceed the context of {manifest.MaxContext}");
        }

        using var embed = sessions.Create(bundle.ComponentPath(manifest.Embedding!.Component));
        using var decoder = sessions.Create(bundle.ComponentPath(manifest.Decoder.Component));
        using var crossKv = sessions.Create(bundle.ComponentPath(cross.Component));
        var random = new Random(1);
        var features = new float[cross.MediaTokensPerItem * manifest.Decoder.HiddenSize];
        foreach (ref var f in features.AsSpan())
        {
            f = (float)(random.NextDouble() - 0.5);
        }

        var media = new CrossAttentionMedia([1], features, cross.MediaTokensPerItem, manifest.Decoder.HiddenSize);
        var prompt = Enumerable.Range(0, options.Prompt).Select(i => 5 + (i % 50)).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cross-attention executor of {options.Bundle} on {sessions.Placement.ExecutionProvider}: prompts of {options.Prompt} tokens with one media item each, {options.Steps} decode steps, {options.Rounds} rounds"));

        // The first pass over every batch size is not printed (JIT tiering, ORT's arena seeing the shapes).
        foreach (var (batch, print) in options.Batches.Select(b => (b, false)).Concat(options.Batches.Select(b => (b, true))))
        {
            var ms = new List<double>();
            var bytes = new List<double>();
            using var executor = new OnnxCrossAttentionExecutor(bundle, embed, decoder, crossKv, options.Batches.Max(), ownsSessions: false);
            for (int round = 0; round < options.Rounds; round++)
            {
                var (stepMs, stepBytes) = Decode(executor, batch, prompt, media, options.Steps);
                ms.Add(stepMs);
                bytes.Add(stepBytes);
            }

            if (print)
            {
                Console.WriteLine(StepFigures.DecodeLine(batch, ms, bytes));
            }
        }
    }

    private static (double Ms, double Bytes) Decode(OnnxCrossAttentionExecutor executor, int batch, int[] prompt, CrossAttentionMedia media, int steps)
    {
        var output = new ForwardOutput();
        var prefill = Enumerable.Range(0, batch).Select(i => new SequenceInput(i, prompt, 0, []) { CrossAttention = media }).ToArray();
        output.Prepare(prefill, executor.Info.VocabSize, executor.Info.HiddenSize);
        executor.Forward(prefill, output, CancellationToken.None);

        var decode = new SequenceInput[batch];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        for (int step = 0; step < steps; step++)
        {
            for (int i = 0; i < batch; i++)
            {
                decode[i] = new SequenceInput(i, new[] { 5 + (step % 50) }, prompt.Length + step, []);
            }

            output.Prepare(decode, executor.Info.VocabSize, executor.Info.HiddenSize);
            executor.Forward(decode, output, CancellationToken.None);
        }

        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
        double bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)steps;
        for (int i = 0; i < batch; i++)
        {
            executor.Release(i); // the sequences finish, as a server's would; the next round's take their place
        }

        return (ms, bytes);
    }
}
