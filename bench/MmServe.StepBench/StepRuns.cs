using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.StepBench;

/// <summary>One form of the bundle's decoder: the manifest's ("concat") or a decoder variant ("gqa"), with its sessions.</summary>
internal sealed class DecoderForm : IDisposable
{
    private DecoderForm(string name, ModelBundle bundle, InferenceSession embed, InferenceSession decoder)
    {
        Name = name;
        Bundle = bundle;
        Embed = embed;
        Decoder = decoder;
    }

    public string Name { get; }

    public ModelBundle Bundle { get; }

    public InferenceSession Embed { get; }

    public InferenceSession Decoder { get; }

    /// <param name="name">"concat" for the manifest's decoder, else a name of its decoder_variants.</param>
    public static DecoderForm Load(string bundlePath, string name, SessionFactory sessions)
    {
        var bundle = BundleLoader.Load(bundlePath, name == "concat" ? null : name);
        var embed = sessions.Create(bundle.ComponentPath(bundle.Manifest.Embedding!.Component));
        return new DecoderForm(name, bundle, embed, sessions.Create(bundle.ComponentPath(bundle.Manifest.Decoder.Component)));
    }

    public void Dispose()
    {
        Embed.Dispose();
        Decoder.Dispose();
    }
}

/// <summary>The timed runs: steady decode steps of a batch, and the first decode step after sequences joined.</summary>
internal sealed class StepRuns(StepOptions options, int? cudaDevice)
{
    private long _nextId = 1;

    /// <summary>Prefills <paramref name="batch"/> prompts, then times the decode steps; ms per step and managed bytes allocated per step.</summary>
    public (double Ms, double Bytes) Decode(DecoderForm form, int batch)
    {
        using var executor = NewExecutor(form);
        var output = new ForwardOutput();
        var ids = Prefill(executor, form, output, batch);

        // Inputs are made before the clock starts: what is measured is what the engine's own step costs the executor.
        var steps = Enumerable.Range(0, options.Steps).Select(step => DecodeInputs(ids, step)).ToList();
        long allocated = 0;
        var clock = new Stopwatch();
        foreach (var inputs in steps)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            clock.Start();
            output.Prepare(inputs, form.Bundle.Manifest.Decoder.VocabSize, form.Bundle.Manifest.Decoder.HiddenSize);
            executor.Forward(inputs, output, CancellationToken.None);
            clock.Stop();
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        return (clock.Elapsed.TotalMilliseconds / options.Steps, (double)allocated / options.Steps);
    }

    /// <summary>
    /// After one warm-up pass at the full batch, a batch of <paramref name="batch"/> − <paramref name="joins"/> sequences decodes --steps steps, then
    /// <paramref name="joins"/> new sequences are prefilled (not timed) and the next decode step of all of them is
    /// timed, against the median of the next --steps steps of the same rows.
    /// </summary>
    public (double Steady, double AfterJoin) Join(DecoderForm form, int batch, int joins)
    {
        using var executor = NewExecutor(form);
        var output = new ForwardOutput();

        // A server has met every batch size before: one pass at the full batch first (bindings, buffers, ORT's plans).
        var warm = Prefill(executor, form, output, batch);
        Time(executor, form, output, DecodeInputs(warm, 0));
        foreach (long id in warm)
        {
            executor.Release(id);
        }

        var ids = Prefill(executor, form, output, batch - joins);
        for (int step = 0; step < options.Steps; step++)
        {
            Time(executor, form, output, DecodeInputs(ids, step));
        }

        var joined = Prefill(executor, form, output, joins);
        double after = Time(executor, form, output, JoinedInputs(ids, joined, options.Steps, 0));

        // The steady steps the join is compared with run the same rows (all of them) right after it.
        var steady = new List<double>();
        for (int step = 1; step <= options.Steps; step++)
        {
            steady.Add(Time(executor, form, output, JoinedInputs(ids, joined, options.Steps + step, step)));
        }

        steady.Sort();
        return (steady[steady.Count / 2], after);
    }

    /// <summary>Step inputs of the first rows at their step <paramref name="step"/> and of the joined rows at theirs.</summary>
    private List<SequenceInput> JoinedInputs(long[] ids, long[] joined, int step, int joinedStep)
    {
        var all = DecodeInputs(ids, step);
        all.AddRange(joined.Select(id => new SequenceInput(id, new[] { 400 + (joinedStep % 50) }, options.Prompt + joinedStep, [])));
        return all;
    }

    private OnnxModelExecutor NewExecutor(DecoderForm form) =>
        new(form.Bundle, form.Embed, form.Decoder, 32, ownsSessions: false, cudaDeviceId: form.Bundle.Manifest.Decoder.SharesKvBuffer ? null : cudaDevice);

    private long[] Prefill(OnnxModelExecutor executor, DecoderForm form, ForwardOutput output, int count)
    {
        var ids = Enumerable.Range(0, count).Select(_ => _nextId++).ToArray();
        var prompt = Enumerable.Range(0, options.Prompt).Select(i => 300 + (i % 50)).ToArray();
        var prefill = ids.Select(id => new SequenceInput(id, prompt, 0, [])).ToList();
        Time(executor, form, output, prefill);
        return ids;
    }

    /// <summary>Step <paramref name="step"/> of sequences that were prefilled with --prompt tokens.</summary>
    private List<SequenceInput> DecodeInputs(long[] ids, int step) =>
        [.. ids.Select(id => new SequenceInput(id, new[] { 400 + (step % 50) }, options.Prompt + step, []))];

    private static double Time(OnnxModelExecutor executor, DecoderForm form, ForwardOutput output, List<SequenceInput> inputs)
    {
        long start = Stopwatch.GetTimestamp();
        output.Prepare(inputs, form.Bundle.Manifest.Decoder.VocabSize, form.Bundle.Manifest.Decoder.HiddenSize);
        executor.Forward(inputs, output, CancellationToken.None);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}
