using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Runtime.Onnx.EncoderDecoder;

namespace MmServe.Runtime.Onnx.Tests.EncoderDecoder;

/// <summary>
/// The tiny-whisper conformance model through <see cref="OnnxSpeechEncoder"/> and
/// <see cref="OnnxEncoderDecoderExecutor"/>, fed transformers.js's own input_features (the processor fixtures):
/// greedy ids equal the goldens alone, all in one batch, and joining a running batch at different steps.
/// </summary>
public sealed class WhisperExecutorTests
{
    private const int Eos = 1756;
    private const int MaxNewTokens = 24;

    private static readonly string Model = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-whisper");
    private static readonly Seq2SeqDecoderSpec Spec = new(Layers: 2, Heads: 4, HeadDim: 16, VocabSize: 3364, EncoderWidth: 64, MaxTargetPositions: 448);

    private static readonly Lazy<(List<Case> Cases, Seq2SeqLogitRules Rules)> Data = new(Load);

    [Fact]
    public void EachFixtureCase_Alone_GivesTheGoldenIds()
    {
        var (cases, rules) = Data.Value;
        using var executor = NewExecutor(rules);
        foreach (var c in cases)
        {
            var ids = Greedy(executor, [(c, 0)])[0];
            Assert.True(c.OutputIds.SequenceEqual(ids), $"{c.Id}: [{string.Join(", ", ids)}] != golden [{string.Join(", ", c.OutputIds)}]");
        }

        Assert.Equal(0, executor.LiveSequences);
    }

    [Fact]
    public void AllFixtureCases_JoiningARunningBatchAtDifferentSteps_GiveTheGoldenIds()
    {
        var (cases, rules) = Data.Value;
        using var executor = NewExecutor(rules);

        // Two at once (one cohort), the rest staggered: several length cohorts in flight together.
        var results = Greedy(executor, [.. cases.Select((c, i) => (c, i < 2 ? 0 : i))]);

        for (int i = 0; i < cases.Count; i++)
        {
            Assert.True(cases[i].OutputIds.SequenceEqual(results[i]), $"{cases[i].Id}: [{string.Join(", ", results[i])}] != golden");
        }

        Assert.Equal(0, executor.LiveSequences);
    }

    [Fact]
    public void ADecodeWithoutItsFirstStep_IsRefused()
    {
        using var executor = NewExecutor(Data.Value.Rules);
        var output = new ForwardOutput();
        var input = new SequenceInput(1, new[] { 5 }, 4, []);
        output.Prepare([input], Spec.VocabSize, 0);

        Assert.Throws<InvalidOperationException>(() => executor.Forward([input], output, CancellationToken.None));
    }

    [Fact]
    public void ASteadyDecodeStep_AllocatesNothingProportionalToTheContextOrTheEncoderLength()
    {
        var (cases, rules) = Data.Value;
        using var executor = NewExecutor(rules);
        var rows = cases.Take(4).ToList();
        var output = new ForwardOutput();
        var prefill = rows.Select((c, i) => new SequenceInput(i + 1, c.Prompt, 0, []) { Encoder = c.Encoder }).ToArray();
        output.Prepare(prefill, Spec.VocabSize, 0);
        executor.Forward(prefill, output, CancellationToken.None);

        const int steps = 120;
        var bytes = new long[steps];
        var decode = new SequenceInput[rows.Count];
        for (int step = 0; step < steps; step++)
        {
            for (int i = 0; i < rows.Count; i++)
            {
                decode[i] = new SequenceInput(i + 1, new[] { 5 }, rows[i].Prompt.Length + step, []);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            output.Prepare(decode, Spec.VocabSize, 0);
            executor.Forward(decode, output, CancellationToken.None);
            bytes[step] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        // Medians: self-KV arrays double now and then; the rest allocate only the runs' OrtValue wrappers. Before,
        // every step copied each row's cross KV (all 1,500 encoder positions) and its whole self KV into fresh arrays.
        long early = Median(bytes[4..20]);
        long late = Median(bytes[^16..]);
        Assert.True(late <= early + 256, $"a step allocated {early} B after 4 steps and {late} B after {steps - 16}: it grows with the context");
        Assert.True(late <= 16 * 1024, $"a steady step of {rows.Count} rows allocated {late} B");
    }

    private static long Median(long[] values) => values.Order().ElementAt(values.Length / 2);

    private static OnnxEncoderDecoderExecutor NewExecutor(Seq2SeqLogitRules rules) =>
        new(new InferenceSession(Path.Combine(Model, "onnx", "decoder_model_merged.onnx")), Spec, rules, maxBatchSize: 16);

    private static List<int[]> Greedy(OnnxEncoderDecoderExecutor executor, IReadOnlyList<(Case Case, int JoinStep)> plan) =>
        Seq2SeqGreedyLoop.Run(executor, [.. plan.Select(p => new Seq2SeqPlanItem(p.Case.Prompt, p.Case.Encoder, p.JoinStep))], Spec.VocabSize, Eos, MaxNewTokens);

    private sealed record Case(string Id, int[] Prompt, int[] OutputIds, EncoderOutput Encoder);

    private static (List<Case>, Seq2SeqLogitRules) Load()
    {
        string fixtures = Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "fixtures", "tiny-whisper");
        string golden = Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "goldens", "speech", "tiny-whisper.json");

        using var generation = JsonDocument.Parse(File.ReadAllText(Path.Combine(Model, "generation_config.json")));
        var rules = new Seq2SeqLogitRules(
            [.. generation.RootElement.GetProperty("suppress_tokens").EnumerateArray().Select(e => e.GetInt32())],
            [.. generation.RootElement.GetProperty("begin_suppress_tokens").EnumerateArray().Select(e => e.GetInt32())]);

        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixtures, "index.json")));
        var features = new List<(string Audio, float[] Values)>();
        foreach (var item in index.RootElement.GetProperty("items").EnumerateArray())
        {
            features.Add((item.GetProperty("audio").GetString()!, Seq2SeqGreedyLoop.ReadFloats(Path.Combine(fixtures, item.GetProperty("input_features").GetProperty("file").GetString()!))));
        }

        using var encoder = new OnnxSpeechEncoder(new InferenceSession(Path.Combine(Model, "onnx", "encoder_model.onnx")), 80, 3000);
        var encoded = encoder.Encode([.. features.Select(f => (ReadOnlyMemory<float>)f.Values)]);

        using var goldens = JsonDocument.Parse(File.ReadAllText(golden));
        var cases = new List<Case>();
        foreach (var c in goldens.RootElement.GetProperty("cases").EnumerateArray())
        {
            int at = features.FindIndex(f => f.Audio == c.GetProperty("audio").GetString());
            if (at >= 0)
            {
                cases.Add(new Case(
                    c.GetProperty("id").GetString()!,
                    [.. c.GetProperty("decoder_prompt_ids").EnumerateArray().Select(e => e.GetInt32())],
                    [.. c.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32())],
                    encoded[at]));
            }
        }

        Assert.True(cases.Count >= 4, $"only {cases.Count} golden cases use a fixture clip");
        return (cases, rules);
    }
}
