using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Model.HuggingFace.Whisper;
using MmServe.Runtime.Onnx.EncoderDecoder;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.StepBench;

/// <summary>
/// --mode encoder-decoder: the seq2seq executor (OnnxEncoderDecoderExecutor) on a Whisper ONNX folder (e.g.
/// models/conformance/tiny-whisper). For each batch size B: B sequences of --prompt start tokens over encoder outputs of
/// the model's full window (max_source_positions; random values: the executor's work does not depend on them), all one
/// cohort, prefilled, then --steps decode steps of all B rows timed together, then released; one executor per batch
/// size, as a worker keeps one. Prints ms per decode step and the managed bytes a decode step allocates per sequence
/// (over the whole decode, so growing KV arrays count), medians over rounds.
/// </summary>
internal static class EncoderDecoderStepBench
{
    public static void Run(StepOptions options, SessionFactory sessions)
    {
        var config = WhisperConfig.Load(options.Bundle);
        if (options.Prompt + options.Steps > config.MaxTargetPositions)
        {
            throw new ArgumentException($"--prompt {options.Prompt} + --steps {options.Steps} exceed the decoder's {config.MaxTargetPositions} positions");
        }

        var spec = new Seq2SeqDecoderSpec(config.DecoderLayers, config.DecoderHeads, config.HeadDim, config.VocabSize, config.DModel, config.MaxTargetPositions);
        using var decoder = sessions.Create(Path.Combine(options.Bundle, "onnx", WhisperConfig.DecoderFile + ".onnx"));
        var random = new Random(1);
        var hidden = new float[config.MaxSourcePositions * config.DModel];
        foreach (ref var h in hidden.AsSpan())
        {
            h = (float)(random.NextDouble() - 0.5);
        }

        var encoder = new EncoderOutput(hidden, config.MaxSourcePositions, config.DModel);
        var prompt = Enumerable.Range(0, options.Prompt).Select(i => 5 + i).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"encoder-decoder executor of {options.Bundle} on {sessions.Placement.ExecutionProvider}: {options.Prompt} start tokens over {config.MaxSourcePositions} encoder positions, {options.Steps} decode steps, {options.Rounds} rounds"));

        // The first pass over every batch size is not printed (JIT tiering, ORT's arena seeing the shapes).
        foreach (var (batch, print) in options.Batches.Select(b => (b, false)).Concat(options.Batches.Select(b => (b, true))))
        {
            var ms = new List<double>();
            var bytes = new List<double>();
            using var executor = new OnnxEncoderDecoderExecutor(decoder, spec, Seq2SeqLogitRules.None, options.Batches.Max(), ownsSession: false);
            for (int round = 0; round < options.Rounds; round++)
            {
                var (stepMs, stepBytes) = Decode(executor, batch, prompt, encoder, options.Steps, spec.VocabSize);
                ms.Add(stepMs);
                bytes.Add(stepBytes);
            }

            if (print)
            {
                Console.WriteLine(StepFigures.DecodeLine(batch, ms, bytes));
            }
        }
    }

    private static (double Ms, double Bytes) Decode(OnnxEncoderDecoderExecutor executor, int batch, int[] prompt, EncoderOutput encoder, int steps, int vocab)
    {
        var output = new ForwardOutput();
        var prefill = Enumerable.Range(0, batch).Select(i => new SequenceInput(i, prompt, 0, []) { Encoder = encoder }).ToArray();
        output.Prepare(prefill, vocab, 0);
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

            output.Prepare(decode, vocab, 0);
            executor.Forward(decode, output, CancellationToken.None);
        }

        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
        double bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)steps;
        for (int i = 0; i < batch; i++)
        {
            executor.Release(i);
        }

        return (ms, bytes);
    }
}
