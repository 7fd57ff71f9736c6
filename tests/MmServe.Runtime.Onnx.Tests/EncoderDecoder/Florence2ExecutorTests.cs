using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.EncoderDecoder;

namespace MmServe.Runtime.Onnx.Tests.EncoderDecoder;

/// <summary>
/// The tiny-florence2 conformance model through <see cref="OnnxFlorence2Encoder"/> and
/// <see cref="OnnxEncoderDecoderExecutor"/> (inputs_embeds via embed_tokens, encoder_attention_mask, forced BOS), fed
/// transformers.js's own pixel_values (the processor fixtures) and prompt ids: greedy ids equal the goldens alone and
/// joining a running batch at different steps, with encoder lengths that differ (prompts of different lengths).
/// </summary>
public sealed class Florence2ExecutorTests
{
    private const int Eos = 2;
    private const int MaxNewTokens = 32;

    private static readonly string Model = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-florence2");
    private static readonly Seq2SeqDecoderSpec Spec = new(Layers: 2, Heads: 4, HeadDim: 16, VocabSize: 1761, EncoderWidth: 64, MaxTargetPositions: 128)
    {
        TakesInputsEmbeds = true,
        TakesEncoderAttentionMask = true,
    };

    private static readonly Seq2SeqLogitRules ForcedBos = Seq2SeqLogitRules.None with { ForcedFirstToken = 0 };

    [Fact]
    public void EachFixtureCase_Alone_GivesTheGoldenIds()
    {
        using var encoder = NewEncoder();
        var cases = Cases(encoder);
        using var executor = NewExecutor(encoder);
        foreach (var c in cases)
        {
            var ids = Seq2SeqGreedyLoop.Run(executor, [c.Item], Spec.VocabSize, Eos, MaxNewTokens)[0];
            Assert.True(c.Golden.SequenceEqual(ids), $"{c.Id}: [{string.Join(", ", ids)}] != golden [{string.Join(", ", c.Golden)}]");
        }

        Assert.Equal(0, executor.LiveSequences);
    }

    [Fact]
    public void AllFixtureCases_JoiningAtDifferentStepsWithDifferentEncoderLengths_GiveTheGoldenIds()
    {
        using var encoder = NewEncoder();
        var cases = Cases(encoder);
        Assert.True(cases.Select(c => c.Item.Encoder.Length).Distinct().Count() > 1, "the fixture cases should have different encoder lengths");
        using var executor = NewExecutor(encoder);

        var results = Seq2SeqGreedyLoop.Run(executor, [.. cases.Select((c, i) => c.Item with { JoinStep = i % 3 == 0 ? 0 : i })], Spec.VocabSize, Eos, MaxNewTokens);

        for (int i = 0; i < cases.Count; i++)
        {
            Assert.True(cases[i].Golden.SequenceEqual(results[i]), $"{cases[i].Id}: [{string.Join(", ", results[i])}] != golden");
        }

        Assert.Equal(0, executor.LiveSequences);
    }

    [Fact]
    public void TheFirstGeneratedToken_IsTheForcedBos()
    {
        using var encoder = NewEncoder();
        var c = Cases(encoder)[0];
        using var executor = NewExecutor(encoder);
        var output = new Abstractions.ForwardOutput();
        var input = new Abstractions.SequenceInput(1, c.Item.Prompt, 0, []) { Encoder = c.Item.Encoder };
        output.Prepare([input], Spec.VocabSize, 0);

        executor.Forward([input], output, CancellationToken.None);

        var logits = output.GetLogits(0).ToArray();
        Assert.Equal(0f, logits[0]);
        Assert.All(logits.Skip(1), l => Assert.Equal(float.NegativeInfinity, l));
    }

    [Fact]
    public void AnInputsEmbedsDecoderWithoutEmbedTokens_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new OnnxEncoderDecoderExecutor(
            new InferenceSession(Path.Combine(Model, "onnx", "decoder_model_merged.onnx")), Spec, ForcedBos, maxBatchSize: 4));
    }

    [Fact]
    public void ThisDecoderReadAsAnInputIdsDecoder_FailsTheContractNamingTheInputs()
    {
        var error = Assert.Throws<BundleValidationException>(() => new OnnxEncoderDecoderExecutor(
            new InferenceSession(Path.Combine(Model, "onnx", "decoder_model_merged.onnx")), Spec with { TakesInputsEmbeds = false, TakesEncoderAttentionMask = false }, ForcedBos, maxBatchSize: 4));
        Assert.Contains("'input_ids' is missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("'encoder_attention_mask' is not one this server feeds", error.Message, StringComparison.Ordinal);
    }

    private sealed record FixtureCase(string Id, Seq2SeqPlanItem Item, int[] Golden);

    private static OnnxFlorence2Encoder NewEncoder() => new(
        new InferenceSession(Path.Combine(Model, "onnx", "vision_encoder.onnx")),
        new InferenceSession(Path.Combine(Model, "onnx", "embed_tokens.onnx")),
        new InferenceSession(Path.Combine(Model, "onnx", "encoder_model.onnx")),
        width: 64);

    private static OnnxEncoderDecoderExecutor NewExecutor(OnnxFlorence2Encoder encoder) =>
        new(new InferenceSession(Path.Combine(Model, "onnx", "decoder_model_merged.onnx")), Spec, ForcedBos, maxBatchSize: 16, embedTokens: encoder.EmbedTokens);

    /// <summary>Every golden case whose image has a pixel_values fixture (transformers.js's own processor output).</summary>
    private static List<FixtureCase> Cases(OnnxFlorence2Encoder encoder)
    {
        string fixtures = Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "fixtures", "tiny-florence2");
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixtures, "index.json")));
        var pixels = index.RootElement.GetProperty("items").EnumerateArray().ToDictionary(
            i => i.GetProperty("image").GetString()!,
            i => Seq2SeqGreedyLoop.ReadFloats(Path.Combine(fixtures, i.GetProperty("pixel_values").GetProperty("file").GetString()!)));

        using var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "goldens", "florence2", "tiny-florence2.json")));
        var cases = new List<FixtureCase>();
        foreach (var c in golden.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (pixels.TryGetValue(c.GetProperty("image").GetString()!, out var values))
            {
                int[] promptIds = [.. c.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32())];
                var encoded = encoder.Encode(values, 96, 96, promptIds);
                cases.Add(new FixtureCase(
                    c.GetProperty("id").GetString()!,
                    new Seq2SeqPlanItem([.. c.GetProperty("decoder_prompt_ids").EnumerateArray().Select(e => e.GetInt32())], encoded, 0),
                    [.. c.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32())]));
            }
        }

        Assert.True(cases.Count >= 8, $"only {cases.Count} golden cases use a fixture image");
        return cases;
    }
}
