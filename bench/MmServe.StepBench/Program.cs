using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;
using MmServe.StepBench;

// Decode-step benchmark: the executor alone (no HTTP, no sampling), so serving figures can be split into model
// time and everything else. For each decoder form (the manifest's decoder, "concat", and its decoder variants, e.g.
// "gqa" with one shared KV buffer) and batch size B: prefill B prompts of --prompt tokens, then time --steps decode
// steps of all B rows together. Prints ms per step, tokens/s, the throughput ratio to the first batch size, and the
// managed bytes a decode step allocates (GC.GetAllocatedBytesForCurrentThread around Forward, per sequence). Forms
// alternate round by round, so a noisy machine slows both alike. Then the join test: the first decode step after
// --joins sequences joined a running batch of 16, against a steady step (the concat form repacks its KV there).
//
//   dotnet run -c Release --project bench/MmServe.StepBench -- [--bundle models/mmserve-tiny] [--batches 1,4,16]
//       [--prompt 30] [--steps 64] [--intra-op-threads 0] [--rounds 10] [--device cpu|cuda:N] [--forms concat,gqa]
//       [--joins 1,4] [--mode executor|constrained|mask] [--vocab N]
// --mode constrained times whole engine steps (forward, JSON Schema masks, sampling) with and without a constraint
// instead, on the first form (see ConstrainedStepBench); --mode mask [--vocab N] times the constrained decoder alone
// (MaskBench); --mode cross-attention --bundle models/families/tiny-flamingo times the gated cross-attention executor
// (CrossAttentionStepBench); --mode encoder-decoder --bundle models/conformance/tiny-whisper the seq2seq executor of a
// Whisper folder (EncoderDecoderStepBench).
// --device cuda:N needs the GPU flavour (-p:OrtFlavor=cuda, docs/gpu.md); it measures the device-resident KV path and
// stops if CUDA cannot be used (no fallback); the shared-buffer form runs on the host path only.
var options = StepOptions.Parse(args);
var sessions = new SessionFactory(new DeviceOptions(options.Device, options.IntraOpThreads), NullLogger.Instance);
if (options.Mode == "cross-attention")
{
    CrossAttentionStepBench.Run(options, sessions);
    return;
}

if (options.Mode == "encoder-decoder")
{
    EncoderDecoderStepBench.Run(options, sessions);
    return;
}

var forms = options.Forms.Select(name => DecoderForm.Load(options.Bundle, name, sessions)).ToList();
try
{
    if (options.Mode == "mask")
    {
        MaskBench.Run(options, forms[0].Bundle, options.Vocab);
        return;
    }

    if (options.Mode == "constrained")
    {
        var first = forms[0];
        await ConstrainedStepBench.RunAsync(options, first.Bundle, () => new OnnxModelExecutor(
            first.Bundle, first.Embed, first.Decoder, 32, ownsSessions: false, cudaDeviceId: sessions.Placement.IsCuda ? sessions.Device.CudaDeviceId : null));
        return;
    }

    // Refused up front, not mid-run: decode passes reach --prompt + --steps positions, the join test (its first rows
    // decode before and after the join) --prompt + 2 x --steps + 1.
    int context = forms[0].Bundle.Manifest.MaxContext;
    int needed = options.Prompt + (options.Joins.Length > 0 ? (2 * options.Steps) + 1 : options.Steps);
    if (needed > context)
    {
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"stepbench: --prompt {options.Prompt} and --steps {options.Steps} reach position {needed}{(options.Joins.Length > 0 ? " with the join test" : "")}, past the decoder's {context}; lower them{(options.Joins.Length > 0 ? " or pass --joins \"\"" : "")}"));
        Environment.ExitCode = 2;
        return;
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"decoder of {options.Bundle} on {sessions.Placement.ExecutionProvider} (ONNX Runtime {OrtBuild.RuntimeVersion}, {OrtBuild.Flavor} build): prompts of {options.Prompt} tokens, {options.Steps} decode steps, intra-op threads {(options.IntraOpThreads == 0 ? "default" : options.IntraOpThreads)}, forms {string.Join(", ", options.Forms)}"));
    var bench = new StepRuns(options, sessions.Placement.IsCuda ? sessions.Device.CudaDeviceId : null);

    // A first pass over every batch size is not printed: until the JIT has tiered up and ORT's arena has seen the
    // shapes, a decode step costs up to twice as much.
    foreach (var (batch, print) in options.Batches.Select(b => (b, false)).Concat(options.Batches.Select(b => (b, true))))
    {
        var results = forms.ToDictionary(f => f.Name, _ => new List<(double Ms, double Bytes)>());
        for (int round = 0; round < options.Rounds + 1; round++)
        {
            foreach (var form in round % 2 == 0 ? forms : Enumerable.Reverse(forms))
            {
                var measured = bench.Decode(form, batch);
                if (round > 0)
                {
                    results[form.Name].Add(measured); // round 0 warms up this shape
                }
            }
        }

        if (print)
        {
            foreach (var form in forms)
            {
                var (ms, bytes) = (StepFigures.Median(results[form.Name].Select(r => r.Ms)), StepFigures.Median(results[form.Name].Select(r => r.Bytes)));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{form.Name,-7} batch {batch,3}: {ms,7:F3} ms/step (median of {options.Rounds}), {batch * 1000 / ms,8:F0} tok/s, {bytes / batch,6:F0} B allocated per sequence per step"));
            }
        }
    }

    foreach (int joins in options.Joins)
    {
        var results = forms.ToDictionary(f => f.Name, _ => new List<(double Steady, double AfterJoin)>());
        for (int round = 0; round < options.Rounds + 1; round++)
        {
            foreach (var form in round % 2 == 0 ? forms : Enumerable.Reverse(forms))
            {
                var measured = bench.Join(form, 16, joins);
                if (round > 0)
                {
                    results[form.Name].Add(measured);
                }
            }
        }

        foreach (var form in forms)
        {
            double steady = StepFigures.Median(results[form.Name].Select(r => r.Steady));
            double after = StepFigures.Median(results[form.Name].Select(r => r.AfterJoin));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{form.Name,-7} batch  16, {joins} joined: first decode step after the join {after,7:F3} ms, steady step {steady,7:F3} ms ({after / steady:F2}x)"));
        }
    }
}
finally
{
    foreach (var form in forms)
    {
        form.Dispose();
    }
}
