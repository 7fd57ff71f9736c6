using MmServe.StepBench;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Engine.Constraints;
using MmServe.Model.Bundle;
using MmServe.Model.Tokenization;
using MmServe.Serving.Structured;

/// <summary>
/// --mode constrained: whole engine steps (forward + masking + sampling + scheduling) of B requests sampled at
/// temperature 1, with and without a JSON Schema constraint, alternating plain and constrained runs so both see
/// the same machine state. ignore_eos keeps all B rows in the batch for exactly --steps steps, so ms/step compares
/// like with like (a constrained row that completed its JSON keeps decoding under the EOS-only mask). The first run
/// of each mode is a warm-up and is reported separately: it includes building the constraint's masks. Each round
/// runs both modes back to back (which goes first alternates), and the slowdown is the median of the rounds' own
/// ratios, so drift in the machine's load between rounds cancels out.
/// </summary>
internal static class ConstrainedStepBench
{
    /// <summary>A typical response_format schema: a flat object with strings, an integer, an enum and a short array.</summary>
    public const string TypicalSchema = """
        {"type":"object","properties":{
            "name":{"type":"string","maxLength":24},
            "age":{"type":"integer"},
            "kind":{"enum":["circle","square","triangle"]},
            "tags":{"type":"array","items":{"type":"string","maxLength":10},"maxItems":3}},
         "required":["name","age","kind","tags"],"additionalProperties":false}
        """;

    public static async Task RunAsync(StepOptions options, ModelBundle bundle, Func<IModelExecutor> createExecutor)
    {
        var tokenizer = BundleLoader.LoadTokenizer(bundle);
        int[] eos = [.. bundle.Manifest.Tokenizer.EosTokens.Select(t => tokenizer.TokenToId(t)!.Value)];
        var constraint = new ConstraintCache(tokenizer, eos).GetOrCompile("bench", () => JsonSchemaGrammar.Compile(JsonDocument.Parse(TypicalSchema).RootElement));
        foreach (int batch in options.Batches)
        {
            using var engine = new GenerationEngine(new ExecutorFactory(createExecutor), new TokenTextDecoder(tokenizer, eos), new EngineOptions { MaxBatchSize = batch });
            var plain = new List<double>();
            var constrained = new List<double>();
            var ratios = new List<double>();
            double plainCold = 0, constrainedCold = 0;
            for (int round = 0; round <= options.Rounds; round++)
            {
                double p, c;
                if (round % 2 == 0)
                {
                    p = await TimeStepsAsync(engine, batch, null, options, round);
                    c = await TimeStepsAsync(engine, batch, constraint, options, round);
                }
                else
                {
                    c = await TimeStepsAsync(engine, batch, constraint, options, round);
                    p = await TimeStepsAsync(engine, batch, null, options, round);
                }

                if (round == 0)
                {
                    (plainCold, constrainedCold) = (p, c);
                    continue;
                }

                plain.Add(p);
                constrained.Add(c);
                ratios.Add(c / p);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"batch {batch,3}: plain {StepFigures.Median(plain),7:F3} ms/step, constrained {StepFigures.Median(constrained),7:F3} ms/step (medians of {options.Rounds}), slowdown {(StepFigures.Median(ratios) - 1) * 100,6:F1} % (median of per-round ratios); first run {plainCold:F3} / {constrainedCold:F3} ms/step; {constraint.StatesBuilt} automaton states"));
        }
    }

    private static async Task<double> TimeStepsAsync(GenerationEngine engine, int batch, TokenConstraint? constraint, StepOptions options, int round)
    {
        var prompt = Enumerable.Range(0, options.Prompt).Select(i => 300 + (i % 50)).ToArray();
        long stepsBefore = engine.Stats.Steps;
        var clock = Stopwatch.StartNew();
        var runs = new List<Task>();
        for (int row = 0; row < batch; row++)
        {
            var sampling = new SamplingParams { Temperature = 1f, Seed = round * 1000 + row, MaxTokens = options.Steps, IgnoreEos = true };
            var handle = await engine.SubmitAsync(new GenerationRequest($"bench{row}", prompt, sampling) { Constraint = constraint });
            runs.Add(Drain(handle));
        }

        await Task.WhenAll(runs);
        long steps = engine.Stats.Steps - stepsBefore;
        return clock.Elapsed.TotalMilliseconds / steps;
    }

    private static async Task Drain(GenerationHandle handle)
    {
        await foreach (var item in handle.Events.ReadAllAsync())
        {
            if (item is ErrorEvent error)
            {
                throw new InvalidOperationException(error.Error.Message);
            }
        }
    }

    private sealed class ExecutorFactory(Func<IModelExecutor> create) : IModelExecutorFactory
    {
        public IModelExecutor Create(int workerIndex) => create();
    }
}
