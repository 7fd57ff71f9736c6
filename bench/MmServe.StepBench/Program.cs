using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

// Decode-step benchmark: the executor alone (no HTTP, no sampling), so serving figures can be split into model
// time and everything else. For each batch size B: prefill B prompts of --prompt tokens, then time --steps decode
// steps of all B rows together. Prints ms per step and tokens/s, and the throughput ratio to B = 1.
//
//   dotnet run -c Release --project bench/MmServe.StepBench -- [--bundle models/mmserve-tiny] [--batches 1,4,16]
//       [--prompt 30] [--steps 64] [--intra-op-threads 0] [--rounds 10] [--device cpu|cuda:N] [--mode executor|constrained|mask] [--vocab N]
// --mode constrained times whole engine steps (forward, JSON Schema masks, sampling) with and without a
// constraint instead (see ConstrainedStepBench); --mode mask [--vocab N] times the constrained decoder alone (MaskBench).
// --device cuda:N needs the GPU flavour (-p:OrtFlavor=cuda, docs/gpu.md); it measures the device-resident KV path and
// stops if CUDA cannot be used (no fallback).
var options = StepOptions.Parse(args);
var bundle = BundleLoader.Load(options.Bundle);
var sessions = new SessionFactory(new DeviceOptions(options.Device, options.IntraOpThreads), NullLogger.Instance);
using var embed = sessions.Create(bundle.ComponentPath(bundle.Manifest.Embedding!.Component));
using var decoder = sessions.Create(bundle.ComponentPath(bundle.Manifest.Decoder.Component));
int? cudaDevice = sessions.Placement.IsCuda ? sessions.Device.CudaDeviceId : null;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"decoder of {options.Bundle} on {sessions.Placement.ExecutionProvider} (ONNX Runtime {OrtBuild.RuntimeVersion}, {OrtBuild.Flavor} build): prompts of {options.Prompt} tokens, {options.Steps} decode steps, intra-op threads {(options.IntraOpThreads == 0 ? "default" : options.IntraOpThreads)}"));

if (options.Mode == "mask")
{
    MaskBench.Run(options, bundle, options.Vocab);
    return;
}

if (options.Mode == "constrained")
{
    await ConstrainedStepBench.RunAsync(options, bundle, () => new OnnxModelExecutor(bundle, embed, decoder, 32, ownsSessions: false, cudaDeviceId: cudaDevice));
    return;
}

long nextId = 1;
double baseline = 0;

// A first pass over every batch size is not printed: until the JIT has tiered up and ORT's arena has seen the
// shapes, a decode step costs up to twice as much.
foreach (var (batch, print) in options.Batches.Select(b => (b, false)).Concat(options.Batches.Select(b => (b, true))))
{
    var perStep = new List<double>();
    for (int round = 0; round < options.Rounds + 1; round++)
    {
        using var executor = new OnnxModelExecutor(bundle, embed, decoder, 32, ownsSessions: false, cudaDeviceId: cudaDevice);
        var output = new ForwardOutput();
        var ids = Enumerable.Range(0, batch).Select(_ => nextId++).ToArray();
        var prompt = Enumerable.Range(0, options.Prompt).Select(i => 300 + (i % 50)).ToArray();
        var prefill = ids.Select(id => new SequenceInput(id, prompt, 0, [])).ToList();
        output.Prepare(prefill, bundle.Manifest.Decoder.VocabSize, bundle.Manifest.Decoder.HiddenSize);
        executor.Forward(prefill, output, CancellationToken.None);

        var clock = Stopwatch.StartNew();
        for (int step = 0; step < options.Steps; step++)
        {
            var decode = ids.Select(id => new SequenceInput(id, new[] { 400 + (step % 50) }, options.Prompt + step, [])).ToList();
            output.Prepare(decode, bundle.Manifest.Decoder.VocabSize, bundle.Manifest.Decoder.HiddenSize);
            executor.Forward(decode, output, CancellationToken.None);
        }

        if (round > 0)
        {
            perStep.Add(clock.Elapsed.TotalMilliseconds / options.Steps); // round 0 warms up this shape
        }
    }

    if (!print)
    {
        continue;
    }

    perStep.Sort();
    double ms = perStep[perStep.Count / 2];
    double tokensPerSecond = batch * 1000 / ms;
    baseline = batch == options.Batches[0] ? tokensPerSecond : baseline;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"batch {batch,3}: {ms,7:F3} ms/step (median of {options.Rounds}), {tokensPerSecond,8:F0} tok/s, {tokensPerSecond / baseline,5:F2}x batch {options.Batches[0]}"));
}

internal sealed record StepOptions(string Bundle, int[] Batches, int Prompt, int Steps, int IntraOpThreads, int Rounds, string Device, string Mode = "executor", int Vocab = 0)
{
    public static StepOptions Parse(string[] args)
    {
        var o = new StepOptions("models/mmserve-tiny", [1, 4, 16], 30, 64, 0, 10, "cpu");
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            o = args[i] switch
            {
                "--bundle" => o with { Bundle = v },
                "--batches" => o with { Batches = [.. v.Split(',').Select(int.Parse)] },
                "--prompt" => o with { Prompt = int.Parse(v, CultureInfo.InvariantCulture) },
                "--steps" => o with { Steps = int.Parse(v, CultureInfo.InvariantCulture) },
                "--intra-op-threads" => o with { IntraOpThreads = int.Parse(v, CultureInfo.InvariantCulture) },
                "--rounds" => o with { Rounds = int.Parse(v, CultureInfo.InvariantCulture) },
                "--device" => o with { Device = v },
                "--mode" => v is "executor" or "constrained" or "mask" ? o with { Mode = v } : throw new ArgumentException($"--mode must be executor, constrained or mask, not {v}"),
                "--vocab" => o with { Vocab = int.Parse(v, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return o;
    }
}
