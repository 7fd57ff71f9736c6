namespace MmServe.Model.Bundle;

internal sealed partial class BundleValidator
{
    /// <summary>The "cross_attention" section: its component and tensor names, and a one-token marker modality.</summary>
    private void ValidateCrossAttention(BundleManifest m)
    {
        if (m.CrossAttention is not { } x)
        {
            return;
        }

        const string at = "cross_attention";
        Positive($"{at}.media_tokens_per_item", x.MediaTokensPerItem);
        Positive($"{at}.max_items", x.MaxItems);
        Positive($"{at}.num_blocks", x.NumBlocks);
        Positive($"{at}.num_heads", x.NumHeads);
        Positive($"{at}.head_dim", x.HeadDim);
        if (x.Attend != CrossAttentionSpec.AttendMostRecentItem)
        {
            Fail($"{at}.attend", $"must be \"{CrossAttentionSpec.AttendMostRecentItem}\" (got \"{x.Attend}\")");
        }

        foreach (var (field, pattern) in (ReadOnlySpan<(string, string)>)[($"{at}.key", x.Key), ($"{at}.value", x.Value)])
        {
            if (!pattern.Contains(CrossAttentionSpec.BlockPlaceholder, StringComparison.Ordinal))
            {
                Fail(field, $"'{pattern}' must contain {CrossAttentionSpec.BlockPlaceholder}");
            }
        }

        if (!m.InputModalities.TryGetValue(x.Modality, out var modality))
        {
            Fail($"{at}.modality", $"'{x.Modality}' is not one of input_modalities");
        }
        else if (modality.TokensPerItem != 1)
        {
            Fail($"input_modalities.{x.Modality}.tokens_per_item", $"must be 1 for a cross-attended modality (one marker token per item; got {modality.TokensPerItem})");
        }

        var kv = RequireComponent($"{at}.component", x.Component, m);
        if (kv is not null)
        {
            RequireTensor($"{at}.media_features", x.MediaFeatures, x.Component, kv.Inputs, "input");
        }

        if (!m.Components.TryGetValue(m.Decoder.Component, out var decoder))
        {
            return;
        }

        RequireTensor($"{at}.media_mask", x.MediaMask, m.Decoder.Component, decoder.Inputs, "input");
        for (int block = 0; block < x.NumBlocks; block++)
        {
            bool ok = RequireTensor($"{at}.key", x.KeyName(block), m.Decoder.Component, decoder.Inputs, "input")
                & RequireTensor($"{at}.value", x.ValueName(block), m.Decoder.Component, decoder.Inputs, "input");
            if (kv is not null)
            {
                ok &= RequireTensor($"{at}.key", x.KeyName(block), x.Component, kv.Outputs, "output")
                    & RequireTensor($"{at}.value", x.ValueName(block), x.Component, kv.Outputs, "output");
            }

            if (!ok)
            {
                break;
            }
        }
    }
}
