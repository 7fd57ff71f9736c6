using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>Each exported ONNX component reproduces the PyTorch outputs the recipe saved (golden/components).</summary>
public sealed class ComponentParityTests : IClassFixture<ReferenceBundle>
{
    private const float Tolerance = 1e-4f;
    private readonly ReferenceBundle _model;

    public ComponentParityTests(ReferenceBundle model) => _model = model;

    public static TheoryData<string, string[]> Chains() => new()
    {
        { "image_encoder", ["image_encoder"] },
        { "audio_encoder", ["audio_encoder"] },
        { "video_projector", ["video_projector"] },
        { "embed_tokens", ["embed_tokens"] },
        { "image_generation", ["image_output_projector", "image_generator"] },
        { "audio_generation", ["audio_output_projector", "audio_generator"] },
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void Component_MatchesPyTorchReference(string reference, string[] chain)
    {
        var arrays = Npy.ReadArchive(Path.Combine(TestPaths.Golden, "components", reference + ".npz"));
        OrtValue? feed = null;
        try
        {
            foreach (var component in chain)
            {
                using var session = _model.Sessions.Create(_model.Bundle.ComponentPath(component));
                string inName = session.InputMetadata.Keys.Single();
                string outName = session.OutputMetadata.Keys.Single();
                OrtValue input = feed ?? ToOrt(arrays[inName]);
                using var result = session.Run(new RunOptions(), [inName], [input], [outName]);
                var actual = result[0].GetTensorDataAsSpan<float>().ToArray();
                var expected = arrays[outName].AsFloat32();
                Assert.Equal(expected.Length, actual.Length);
                AssertClose(expected, actual, $"{component}.{outName}");
                feed?.Dispose();
                feed = OrtValue.CreateTensorValueFromMemory(actual, arrays[outName].Shape);
                if (!ReferenceEquals(input, feed))
                {
                    input.Dispose();
                }
            }
        }
        finally
        {
            feed?.Dispose();
        }
    }

    [Fact]
    public void Decoder_PrefillWithLeftPaddingThenStep_MatchesPyTorch()
    {
        var a = Npy.ReadArchive(Path.Combine(TestPaths.Golden, "components", "decoder.npz"));
        var spec = _model.Bundle.Manifest.Decoder;
        var empty = new float[1];
        var prefill = Run(a, "prefill", layer => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, empty.AsMemory(0, 0), [2, spec.NumKvHeads, 0, spec.HeadDim]));
        AssertClose(a["prefill.logits"].AsFloat32(), prefill["logits"], "prefill.logits");
        AssertClose(a["prefill.last_hidden_state"].AsFloat32(), prefill["last_hidden_state"], "prefill.hidden");
        var step = Run(a, "step", name => OrtValue.CreateTensorValueFromMemory(a["prefill." + name.Replace("past_key_values", "present", StringComparison.Ordinal)].AsFloat32(), a["prefill." + name.Replace("past_key_values", "present", StringComparison.Ordinal)].Shape));
        AssertClose(a["step.logits"].AsFloat32(), step["logits"], "step.logits");
        AssertClose(a[$"step.present.{spec.NumLayers - 1}.value"].AsFloat32(), step[$"present.{spec.NumLayers - 1}.value"], "step.present");
    }

    private Dictionary<string, float[]> Run(Dictionary<string, NpyArray> a, string prefix, Func<string, OrtValue> past)
    {
        var spec = _model.Bundle.Manifest.Decoder;
        var names = new List<string> { "inputs_embeds", "attention_mask", "position_ids" };
        var values = new List<OrtValue> { ToOrt(a[$"{prefix}.inputs_embeds"]), ToOrt(a[$"{prefix}.attention_mask"]), ToOrt(a[$"{prefix}.position_ids"]) };
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            foreach (var name in new[] { spec.PastKeyName(layer), spec.PastValueName(layer) })
            {
                names.Add(name);
                values.Add(past(name));
            }
        }

        var outputs = _model.Decoder.OutputMetadata.Keys.ToArray();
        using var results = _model.Decoder.Run(new RunOptions(), names, values, outputs);
        var map = outputs.Zip(results).ToDictionary(p => p.First, p => p.Second.GetTensorDataAsSpan<float>().ToArray());
        values.ForEach(v => v.Dispose());
        return map;
    }

    private static OrtValue ToOrt(NpyArray array) => array.Dtype switch
    {
        "<i8" => OrtValue.CreateTensorValueFromMemory(array.AsInt64(), array.Shape),
        _ => OrtValue.CreateTensorValueFromMemory(array.AsFloat32(), array.Shape),
    };

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }

        Assert.True(worst <= Tolerance, $"{what}: max |diff| {worst} > {Tolerance}");
    }
}
