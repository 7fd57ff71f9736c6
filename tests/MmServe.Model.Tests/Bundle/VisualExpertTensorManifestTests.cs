using System.Text.Json.Nodes;
using MmServe.Model.Bundle;

namespace MmServe.Model.Tests.Bundle;

/// <summary>
/// The manifest fields of the visual-expert and tensor-modality families (docs/model-bundle.md): what they parse to,
/// and each malformed entry reported with its field path when the bundle loads.
/// </summary>
public sealed class VisualExpertTensorManifestTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    [Fact]
    public void Token_type_ids_need_the_visual_expert_section_and_a_decoder_input_of_that_name()
    {
        _bundle.Section("decoder")["token_type_ids"] = "token_type_ids";
        var e = LoadFails();
        Assert.Contains("decoder.visual_expert is required with decoder.token_type_ids", e.Message);

        _bundle.Section("decoder")["visual_expert"] = new JsonObject
        {
            ["modalities"] = new JsonArray("image", "smell"), ["text_type"] = 0, ["expert_type"] = 0, ["positions"] = "rope",
        };
        e = LoadFails();
        Assert.Contains("decoder.token_type_ids 'token_type_ids' is not an input of components.decoder", e.Message);
        Assert.Contains("decoder.visual_expert.modalities names 'smell', which is not an input modality", e.Message);
        Assert.Contains("decoder.visual_expert.expert_type must differ from text_type (0)", e.Message);
        Assert.Contains("decoder.visual_expert.positions must be \"cogvlm2\" or \"token_index\" (got \"rope\")", e.Message);
    }

    [Fact]
    public void A_tensor_modality_parses_its_shape_ranges_and_value_range()
    {
        var spec = TensorInputSpec.Parse(Tensor("float32", new JsonArray(new JsonArray(48, 96), 6), new JsonArray(-1.5, 2))).Spec!;

        Assert.Equal([(48, 96), (6, 6)], spec.Dimensions);
        Assert.Equal("[48..96, 6]", spec.Describe());
        Assert.Equal((-1.5, 2.0), (spec.MinValue, spec.MaxValue));
        Assert.Equal(96 * 6, spec.MaxElements);
    }

    [Theory]
    [InlineData("float64", "[1, 32]", "[0, 1]", "dtype must be \"float32\"")]
    [InlineData("float32", "[]", "[0, 1]", "shape must list at least one dimension")]
    [InlineData("float32", "[1, 0]", "[0, 1]", "shape[1] must be a size >= 1")]
    [InlineData("float32", "[[9, 3]]", "[0, 1]", "shape[0] must be a size >= 1 or a [min, max] range")]
    [InlineData("float32", "[[1, 2, 3]]", "[0, 1]", "shape[0] must be")]
    [InlineData("float32", "[4]", "[2, 1]", "value_range must be [min, max]")]
    [InlineData("float32", "[4]", "[0]", "value_range must be [min, max]")]
    public void A_malformed_tensor_modality_fails_the_load_naming_the_field(string dtype, string shape, string range, string expected)
    {
        _bundle.Section("input_modalities")["image"]!["preprocessing"] = new JsonObject
        {
            ["kind"] = "tensor", ["dtype"] = dtype, ["shape"] = JsonNode.Parse(shape), ["value_range"] = JsonNode.Parse(range),
        };
        Assert.Contains($"input_modalities.image.preprocessing.{expected}", LoadFails().Message);
    }

    private static PreprocessingSpec Tensor(string dtype, JsonArray shape, JsonArray range) =>
        System.Text.Json.JsonSerializer.Deserialize<PreprocessingSpec>(
            new JsonObject { ["kind"] = "tensor", ["dtype"] = dtype, ["shape"] = shape, ["value_range"] = range }.ToJsonString(),
            new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower })!;

    private BundleValidationException LoadFails() =>
        Assert.Throws<BundleValidationException>(() => BundleLoader.Load(_bundle.Write()));
}
