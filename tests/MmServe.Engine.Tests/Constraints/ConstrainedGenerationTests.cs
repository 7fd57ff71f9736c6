using System.Text.Json;
using MmServe.Abstractions;
using MmServe.Engine.Constraints;
using MmServe.Engine.Tests.Fakes;
using MmServe.TestSupport;

namespace MmServe.Engine.Tests.Constraints;

/// <summary>The constraint inside the real engine over the fake model, whose hash logits behave like a random model.</summary>
public sealed class ConstrainedGenerationTests
{
    private const string PersonSchema = """
        {"type":"object","properties":{
            "name":{"type":"string","minLength":1,"maxLength":6},
            "age":{"type":"integer"},
            "tags":{"type":"array","items":{"enum":["a","b","ab"]},"minItems":1,"maxItems":3},
            "score":{"type":["number","null"]},
            "nested":{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}},
         "required":["name","age","tags"],"additionalProperties":false}
        """;

    private static TokenConstraint Compile(string schema) =>
        new(JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement), JsonTestVocabulary.Create());

    private static EngineHarness Harness() => new(new FakeModelOptions { VocabSize = JsonTestVocabulary.Size, MaxBatchSize = 32, MaxContext = 512 });

    private static Task<GenerationResult> Run(EngineHarness harness, TokenConstraint? constraint, SamplingParams sampling, int salt) =>
        harness.Engine.SubmitAsync(new GenerationRequest($"r{salt}", TestUtil.Prompt(5, salt), sampling) { Constraint = constraint }).AsTask()
            .ContinueWith(t => t.Result.CollectAsync()).Unwrap();

    [Fact]
    public async Task SampledAtTemperatureOne_EveryOutputValidatesAgainstItsSchema()
    {
        using var harness = Harness();
        var constraint = Compile(PersonSchema);

        var results = await Task.WhenAll(Enumerable.Range(0, 60).Select(seed =>
            Run(harness, constraint, new SamplingParams { Temperature = 1f, Seed = seed, MaxTokens = 80 }, seed)));

        foreach (var result in results)
        {
            Assert.Equal(FinishReason.Stop, result.Finished.Reason);
            SchemaValidation.AssertValid(PersonSchema, JsonTestVocabulary.TextOf(result.Tokens));
        }

        // The samples differ: the grammar restricts the model, it does not replace it.
        Assert.True(results.Select(r => JsonTestVocabulary.TextOf(r.Tokens)).Distinct().Count() > 30);
    }

    [Theory]
    [InlineData(34)] // the shortest valid output is 33 bytes, {"name":"x","age":0,"tags":["a"]}, plus EOS
    [InlineData(36)]
    [InlineData(45)]
    public async Task WithFewTokens_OutputsStillCloseAndValidate(int maxTokens)
    {
        using var harness = Harness();
        var constraint = Compile(PersonSchema);
        Assert.True(constraint.MinOutputBytes + 1 <= maxTokens);

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(seed =>
            Run(harness, constraint, new SamplingParams { Temperature = 1f, Seed = seed, MaxTokens = maxTokens }, seed)));

        foreach (var result in results)
        {
            Assert.Equal(FinishReason.Stop, result.Finished.Reason);
            Assert.True(result.Tokens.Count <= maxTokens);
            SchemaValidation.AssertValid(PersonSchema, JsonTestVocabulary.TextOf(result.Tokens));
        }
    }

    [Fact]
    public async Task JsonObjectGrammar_GivesParsableObjects()
    {
        using var harness = Harness();
        var constraint = new TokenConstraint(JsonGrammars.AnyObject(), JsonTestVocabulary.Create());

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(seed =>
            Run(harness, constraint, new SamplingParams { Temperature = 1f, Seed = seed, MaxTokens = 60 }, seed)));

        foreach (var result in results)
        {
            Assert.Equal(FinishReason.Stop, result.Finished.Reason);
            Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(JsonTestVocabulary.TextOf(result.Tokens)).RootElement.ValueKind);
        }
    }

    [Fact]
    public async Task ConstrainedAndUnconstrainedRequests_GetTheSameTokensInOneBatchAsAlone()
    {
        var constraint = Compile(PersonSchema);
        var sampling = new SamplingParams { Temperature = 1f, Seed = 7, MaxTokens = 50 };

        IReadOnlyList<int> constrainedAlone, plainAlone;
        using (var harness = Harness())
        {
            constrainedAlone = (await Run(harness, constraint, sampling, 1)).Tokens;
        }

        using (var harness = Harness())
        {
            plainAlone = (await Run(harness, null, sampling, 2)).Tokens;
        }

        using (var harness = Harness())
        {
            var others = Enumerable.Range(10, 14).Select(i => Run(harness, i % 2 == 0 ? constraint : null, sampling with { Seed = i, MaxTokens = 10 + i }, i)).ToList();
            var constrained = Run(harness, constraint, sampling, 1);
            var plain = Run(harness, null, sampling, 2);
            await Task.WhenAll(others);
            Assert.Equal(constrainedAlone, (await constrained).Tokens);
            Assert.Equal(plainAlone, (await plain).Tokens);
            Assert.Contains(harness.Executor.Steps, s => s.Count >= 10);
        }

        Assert.NotEqual(constrainedAlone, plainAlone);
    }
}
