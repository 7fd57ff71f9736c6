namespace MmServe.Model.Bundle;

/// <summary>The visual-expert decoder fields and the "tensor" preprocessing kind (docs/model-bundle.md).</summary>
internal sealed partial class BundleValidator
{
    private void ValidateTokenTypes(BundleManifest m, ComponentSpec decoder)
    {
        var d = m.Decoder;
        if (d.TokenTypeIds is null && d.VisualExpert is null)
        {
            return;
        }

        if (d.TokenTypeIds is null || d.VisualExpert is not { } expert)
        {
            Fail(d.TokenTypeIds is null ? "decoder.token_type_ids" : "decoder.visual_expert",
                "is required with " + (d.TokenTypeIds is null ? "decoder.visual_expert" : "decoder.token_type_ids"));
            return;
        }

        RequireTensor("decoder.token_type_ids", d.TokenTypeIds, d.Component, decoder.Inputs, "input");
        if (expert.Modalities.Count == 0)
        {
            Fail("decoder.visual_expert.modalities", "must name at least one input modality");
        }

        foreach (var modality in expert.Modalities)
        {
            if (!m.InputModalities.ContainsKey(modality))
            {
                Fail("decoder.visual_expert.modalities", $"names '{modality}', which is not an input modality");
            }
        }

        if (expert.TextType == expert.ExpertType)
        {
            Fail("decoder.visual_expert.expert_type", $"must differ from text_type ({expert.TextType})");
        }

        if (expert.Positions is not (VisualExpertSpec.PositionsCogVlm2 or VisualExpertSpec.PositionsTokenIndex))
        {
            Fail("decoder.visual_expert.positions",
                $"must be \"{VisualExpertSpec.PositionsCogVlm2}\" or \"{VisualExpertSpec.PositionsTokenIndex}\" (got \"{expert.Positions}\")");
        }

        if (d.PositionAxes != 1)
        {
            Fail("decoder.position_axes", "must be 1 for a visual-expert decoder");
        }
    }

    private void ValidateTensorPreprocessing(string field, PreprocessingSpec p)
    {
        foreach (var (name, problem) in TensorInputSpec.Parse(p).Problems)
        {
            Fail($"{field}.{name}", problem);
        }
    }
}
