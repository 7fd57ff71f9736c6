using MmServe.Model.Tokenization;

namespace MmServe.Model.Bundle;

/// <summary>
/// Checks of the fields two architecture families add to an input modality (docs/model-bundle.md): an
/// instruction-aware projector (InstructBLIP's Q-Former, "instruction") and encoder-free patch input with row
/// breaks (Fuyu, preprocessing "fuyu_patches" and "row_break_token").
/// </summary>
internal sealed partial class BundleValidator
{
    public const string PatchLayoutRowColChannel = "row,col,channel";

    private void ValidateFamilyFields(string field, InputModalitySpec im, BundleManifest m)
    {
        bool patches = im.Preprocessing.Kind == PreprocessingSpec.KindFuyuPatches;
        if (patches)
        {
            if (im.Encoder is not null || im.FrameEncoder is not null)
            {
                Fail($"{field}.encoder", "must be absent: fuyu_patches feeds the patches to the projector itself");
            }

            if (im.TokensPerItem != 0)
            {
                Fail($"{field}.tokens_per_item", "must be 0: the token count follows from each image's patch grid");
            }

            if (string.IsNullOrEmpty(im.RowBreakToken))
            {
                Fail($"{field}.row_break_token", "is required with fuyu_patches");
            }
        }
        else if (im.RowBreakToken is not null)
        {
            Fail($"{field}.row_break_token", "applies only to preprocessing kind fuyu_patches");
        }

        if (im.Instruction is not { } instruction)
        {
            return;
        }

        var at = $"{field}.instruction";
        if (im.Preprocessing.Kind != PreprocessingSpec.KindImage)
        {
            Fail(at, "applies only to preprocessing kind image");
        }

        if (instruction.Source != ProjectorInstructionSpec.SourceMessageText)
        {
            Fail($"{at}.source", $"'{instruction.Source}' is not '{ProjectorInstructionSpec.SourceMessageText}'");
        }

        Positive($"{at}.max_tokens", instruction.MaxTokens);
        if (im.Projector is { } projector && m.Components.TryGetValue(projector, out var component))
        {
            RequireTensor($"{at}.ids_input", instruction.IdsInput, projector, component.Inputs, "input");
            RequireTensor($"{at}.mask_input", instruction.MaskInput, projector, component.Inputs, "input");
        }
    }

    private void ValidatePatchPreprocessing(string field, PreprocessingSpec p)
    {
        RequirePositive($"{field}.patch_size", p.PatchSize);
        RequirePositive($"{field}.min_width", p.MinWidth);
        RequirePositive($"{field}.min_height", p.MinHeight);
        RequirePositive($"{field}.max_width", p.MaxWidth);
        RequirePositive($"{field}.max_height", p.MaxHeight);
        if (p.MinWidth > p.MaxWidth || p.MinHeight > p.MaxHeight)
        {
            Fail($"{field}.min_width", "and min_height must not exceed max_width and max_height");
        }

        if (p.Resize is not null and not "none")
        {
            Fail($"{field}.resize", "must be 'none' (images outside the size limits are refused, not resized)");
        }

        if (p.RescaleFactor is not > 0)
        {
            Fail($"{field}.rescale_factor", "must be > 0");
        }

        RequireChannelTriple($"{field}.mean", p.Mean);
        if (RequireChannelTriple($"{field}.std", p.Std) && p.Std!.Any(s => s == 0))
        {
            Fail($"{field}.std", "must not contain 0 (values are divided by it)");
        }

        if (p.PatchLayout is not null and not PatchLayoutRowColChannel)
        {
            Fail($"{field}.patch_layout", $"must be '{PatchLayoutRowColChannel}'");
        }

        OneOfIfPresent($"{field}.channel_order", p.ChannelOrder, KnownChannelOrders);
        OneOfIfPresent($"{field}.alpha", p.Alpha, KnownAlphaModes);
    }

    private void ValidateFamilyTokens(string field, InputModalitySpec im, ITextTokenizer tokenizer, Dictionary<string, string> owners)
    {
        if (im.RowBreakToken is { } rowBreak)
        {
            RequireToken($"{field}.row_break_token", rowBreak, tokenizer);
            RequireUnique(owners, rowBreak, $"{field}.row_break_token");
        }

        if (im.Instruction is { } instruction)
        {
            RequireToken($"{field}.instruction.pad_token", instruction.PadToken, tokenizer);
        }
    }
}
