using System.Globalization;
using MmServe.Model.Tokenization;

namespace MmServe.Model.Bundle;

/// <summary>
/// Semantic checks of a parsed manifest. Collects every problem (rather than stopping at the first) so an operator
/// fixes a bundle in one pass; each message is "file: json.field.path problem".
/// </summary>
internal sealed partial class BundleValidator(string manifestDisplayPath, string bundleDirectory)
{
    public static readonly IReadOnlySet<string> KnownDtypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool",
    };

    public static readonly IReadOnlySet<string> KnownPreprocessingKinds = new HashSet<string>(StringComparer.Ordinal)
    {
        PreprocessingSpec.KindImage, PreprocessingSpec.KindLogMel, PreprocessingSpec.KindVideoFrames, PreprocessingSpec.KindTensor,
        PreprocessingSpec.KindFuyuPatches,
    };

    public static readonly IReadOnlySet<string> KnownChannelOrders = new HashSet<string>(StringComparer.Ordinal)
    {
        PreprocessingSpec.ChannelOrderRgb, PreprocessingSpec.ChannelOrderBgr,
    };

    public static readonly IReadOnlySet<string> KnownImageLayouts = new HashSet<string>(StringComparer.Ordinal)
    {
        PreprocessingSpec.LayoutNchw, PreprocessingSpec.LayoutNhwc,
    };

    // Compositing over a background would need the alpha channel, which both the image decoder and the ffmpeg
    // frame sampler (video frames use image preprocessing) discard; refusing beats silently feeding "drop".
    public static readonly IReadOnlySet<string> KnownAlphaModes = new HashSet<string>(StringComparer.Ordinal)
    {
        PreprocessingSpec.AlphaDrop,
    };

    private readonly List<string> _errors = [];

    public IReadOnlyList<string> Errors => _errors;

    public void ThrowIfAny()
    {
        if (_errors.Count > 0)
        {
            throw new BundleValidationException(_errors.ToArray());
        }
    }

    /// <summary>Absolute path of a bundle-relative file name (the name must already be validated).</summary>
    public static string Resolve(string bundleDirectory, string relativePath) =>
        Path.GetFullPath(Path.Combine(bundleDirectory, relativePath));

    public void ValidateManifest(BundleManifest m)
    {
        if (m.Format != BundleManifest.FormatV1)
        {
            Fail("format", $"must be \"{BundleManifest.FormatV1}\" (got \"{m.Format}\")");
        }

        if (string.IsNullOrWhiteSpace(m.Id) || m.Id.Any(char.IsWhiteSpace))
        {
            Fail("id", "must be a non-empty string without whitespace");
        }

        Positive("max_context", m.MaxContext);
        ValidateTokenizerSection(m.Tokenizer);
        ValidateChatTemplate(m.ChatTemplate);
        ValidateComponents(m.Components);
        ValidateEmbedding(m);
        ValidateDecoder(m);
        ValidateCrossAttention(m);
        foreach (var (name, modality) in m.InputModalities)
        {
            ValidateInputModality($"input_modalities.{name}", modality, m);
        }

        foreach (var (name, modality) in m.OutputModalities)
        {
            ValidateOutputModality($"output_modalities.{name}", modality, m);
        }
    }

    public void ValidateTokens(BundleManifest m, ITextTokenizer tokenizer)
    {
        var t = m.Tokenizer;
        for (var i = 0; i < t.EosTokens.Count; i++)
        {
            RequireToken($"tokenizer.eos_tokens[{i}]", t.EosTokens[i], tokenizer);
        }

        RequireToken("tokenizer.pad_token", t.PadToken, tokenizer);
        RequireToken("tokenizer.bos_token", t.BosToken, tokenizer);

        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, modality) in m.InputModalities)
        {
            var field = $"input_modalities.{name}.placeholder_token";
            RequireToken(field, modality.PlaceholderToken, tokenizer);
            RequireUnique(owners, modality.PlaceholderToken, field);
            ValidateFamilyTokens($"input_modalities.{name}", modality, tokenizer, owners);
        }

        foreach (var (name, modality) in m.OutputModalities)
        {
            for (var i = 0; i < modality.SignalTokens.Count; i++)
            {
                var field = $"output_modalities.{name}.signal_tokens[{i}]";
                RequireToken(field, modality.SignalTokens[i], tokenizer);
                RequireUnique(owners, modality.SignalTokens[i], field);
            }
        }

        if (m.Decoder.VocabSize < tokenizer.VocabSize)
        {
            Fail("decoder.vocab_size",
                $"{m.Decoder.VocabSize} is smaller than the tokenizer's {tokenizer.VocabSize} token ids");
        }
    }

    private void ValidateTokenizerSection(TokenizerSpec t)
    {
        RequireFile("tokenizer.file", t.File);
        if (t.EosTokens.Count == 0)
        {
            Fail("tokenizer.eos_tokens", "must name at least one token");
        }
    }

    private void ValidateChatTemplate(ChatTemplateSpec c)
    {
        if (c.File is not null)
        {
            RequireFile("chat_template.file", c.File);
        }

        if (!c.MessageFormat.Contains("{content}", StringComparison.Ordinal))
        {
            Fail("chat_template.message_format", "must contain {content}");
        }

        if (c.Tools is { } tools && !tools.CallFormat.Contains("{call}", StringComparison.Ordinal))
        {
            Fail("chat_template.tools.call_format", "must contain {call}");
        }
    }

    private void ValidateComponents(IReadOnlyDictionary<string, ComponentSpec> components)
    {
        foreach (var (name, component) in components)
        {
            var field = $"components.{name}";
            RequireFile($"{field}.file", component.File);
            ValidateTensors($"{field}.inputs", component.Inputs);
            ValidateTensors($"{field}.outputs", component.Outputs);
        }
    }

    private void ValidateTensors(string field, IReadOnlyList<TensorSpec> tensors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tensors.Count; i++)
        {
            var tensor = tensors[i];
            if (string.IsNullOrEmpty(tensor.Name))
            {
                Fail($"{field}[{i}].name", "must not be empty");
            }
            else if (!seen.Add(tensor.Name))
            {
                Fail($"{field}[{i}].name", $"'{tensor.Name}' appears twice");
            }

            if (!KnownDtypes.Contains(tensor.Dtype))
            {
                Fail($"{field}[{i}].dtype", $"'{tensor.Dtype}' is not one of {string.Join(", ", KnownDtypes)}");
            }
        }
    }

    private void ValidateEmbedding(BundleManifest m)
    {
        if (m.Embedding is not { } e)
        {
            Fail("embedding", "is required");
            return;
        }

        if (RequireComponent("embedding.component", e.Component, m) is { } component)
        {
            RequireTensor("embedding.input_ids", e.InputIds, e.Component, component.Inputs, "input");
            RequireTensor("embedding.inputs_embeds", e.InputsEmbeds, e.Component, component.Outputs, "output");
        }
    }

    private void ValidateDecoder(BundleManifest m)
    {
        var d = m.Decoder;
        Positive("decoder.hidden_size", d.HiddenSize);
        Positive("decoder.num_layers", d.NumLayers);
        Positive("decoder.num_attention_heads", d.NumAttentionHeads);
        Positive("decoder.num_kv_heads", d.NumKvHeads);
        Positive("decoder.head_dim", d.HeadDim);
        Positive("decoder.vocab_size", d.VocabSize);
        if (d.NumAttentionHeads > 0 && d.NumKvHeads > 0 && d.NumAttentionHeads % d.NumKvHeads != 0)
        {
            Fail("decoder.num_attention_heads",
                $"{d.NumAttentionHeads} must be a multiple of decoder.num_kv_heads ({d.NumKvHeads})");
        }

        if (d.KvLayout != DecoderSpec.KvLayoutBatchHeadsSeqDim)
        {
            Fail("decoder.kv_layout", $"must be \"{DecoderSpec.KvLayoutBatchHeadsSeqDim}\" (got \"{d.KvLayout}\")");
        }

        if (d.KvBuffer is not null and not DecoderSpec.KvBufferShared and not DecoderSpec.KvBufferConcat)
        {
            Fail("decoder.kv_buffer", $"must be \"{DecoderSpec.KvBufferConcat}\" or \"{DecoderSpec.KvBufferShared}\" (got \"{d.KvBuffer}\")");
        }

        (string Field, string Pattern)[] perLayer =
        [
            ("decoder.past_key", d.PastKey), ("decoder.past_value", d.PastValue),
            ("decoder.present_key", d.PresentKey), ("decoder.present_value", d.PresentValue),
        ];
        foreach (var (field, pattern) in perLayer)
        {
            if (!pattern.Contains(DecoderSpec.LayerPlaceholder, StringComparison.Ordinal))
            {
                Fail(field, $"'{pattern}' must contain {DecoderSpec.LayerPlaceholder}");
            }
        }

        if (RequireComponent("decoder.component", d.Component, m) is not { } component)
        {
            return;
        }

        RequireTensor("decoder.inputs_embeds", d.InputsEmbeds, d.Component, component.Inputs, "input");
        RequireTensor("decoder.attention_mask", d.AttentionMask, d.Component, component.Inputs, "input");
        RequireTensor("decoder.position_ids", d.PositionIds, d.Component, component.Inputs, "input");
        RequireTensor("decoder.logits", d.Logits, d.Component, component.Outputs, "output");
        if (d.HiddenStates is not null)
        {
            RequireTensor("decoder.hidden_states", d.HiddenStates, d.Component, component.Outputs, "output");
        }

        // One message per pattern is enough; listing every layer would bury the other errors.
        for (var layer = 0; layer < d.NumLayers; layer++)
        {
            if (!RequireTensor("decoder.past_key", d.PastKeyName(layer), d.Component, component.Inputs, "input")
                | !RequireTensor("decoder.past_value", d.PastValueName(layer), d.Component, component.Inputs, "input")
                | !RequireTensor("decoder.present_key", d.PresentKeyName(layer), d.Component, component.Outputs, "output")
                | !RequireTensor("decoder.present_value", d.PresentValueName(layer), d.Component, component.Outputs, "output"))
            {
                break;
            }
        }

        ValidateTokenTypes(m, component);
    }

    private void ValidateInputModality(string field, InputModalitySpec im, BundleManifest m)
    {
        if (string.IsNullOrEmpty(im.PlaceholderToken))
        {
            Fail($"{field}.placeholder_token", "must not be empty");
        }

        bool encoderFree = im.Preprocessing.Kind == PreprocessingSpec.KindFuyuPatches;
        if (!encoderFree)
        {
            Positive($"{field}.tokens_per_item", im.TokensPerItem);
        }

        if (im.Encoder is null && im.FrameEncoder is null && !encoderFree)
        {
            Fail($"{field}.encoder", "is required (or frame_encoder for video)");
        }

        if (im.Encoder is not null)
        {
            RequireComponent($"{field}.encoder", im.Encoder, m);
        }

        if (im.FrameEncoder is not null)
        {
            RequireComponent($"{field}.frame_encoder", im.FrameEncoder, m);
        }

        if (im.Projector is null)
        {
            Fail($"{field}.projector", "is required");
        }
        else
        {
            RequireComponent($"{field}.projector", im.Projector, m);
        }

        ValidateFamilyFields(field, im, m);
        ValidatePreprocessing($"{field}.preprocessing", im.Preprocessing, m);
    }

    private void ValidatePreprocessing(string field, PreprocessingSpec p, BundleManifest m)
    {
        switch (p.Kind)
        {
            case PreprocessingSpec.KindImage:
                RequirePositive($"{field}.width", p.Width);
                RequirePositive($"{field}.height", p.Height);
                if (p.RescaleFactor is <= 0)
                {
                    Fail($"{field}.rescale_factor", "must be > 0");
                }

                RequireChannelTriple($"{field}.mean", p.Mean);
                if (RequireChannelTriple($"{field}.std", p.Std) && p.Std!.Any(s => s == 0))
                {
                    Fail($"{field}.std", "must not contain 0 (values are divided by it)");
                }

                OneOfIfPresent($"{field}.channel_order", p.ChannelOrder, KnownChannelOrders);
                OneOfIfPresent($"{field}.layout", p.Layout, KnownImageLayouts);
                OneOfIfPresent($"{field}.alpha", p.Alpha, KnownAlphaModes);
                break;
            case PreprocessingSpec.KindLogMel:
                RequirePositive($"{field}.sample_rate", p.SampleRate);
                RequirePositive($"{field}.n_fft", p.NFft);
                RequirePositive($"{field}.hop_length", p.HopLength);
                RequirePositive($"{field}.n_mels", p.NMels);
                if (p.WinLength is { } win && (win <= 0 || (p.NFft is { } nFft && win > nFft)))
                {
                    Fail($"{field}.win_length", "must be > 0 and <= n_fft");
                }

                if (p.ClipSeconds is <= 0)
                {
                    Fail($"{field}.clip_seconds", "must be > 0");
                }

                if (p.FMin is { } fMin && p.FMax is { } fMax && fMin >= fMax)
                {
                    Fail($"{field}.f_min", "must be < f_max");
                }

                if (p.FMax is { } top && p.SampleRate is { } rate && top > rate / 2.0)
                {
                    Fail($"{field}.f_max", $"must be <= sample_rate / 2 ({rate / 2.0})");
                }

                break;
            case PreprocessingSpec.KindVideoFrames:
                RequirePositive($"{field}.num_frames", p.NumFrames);
                if (p.FramePreprocessing is { } frame
                    && !(m.InputModalities.TryGetValue(frame, out var source)
                        && source.Preprocessing.Kind == PreprocessingSpec.KindImage))
                {
                    Fail($"{field}.frame_preprocessing",
                        $"'{frame}' must name an input modality whose preprocessing kind is \"image\"");
                }

                break;
            case PreprocessingSpec.KindTensor:
                ValidateTensorPreprocessing(field, p);
                break;
            case PreprocessingSpec.KindFuyuPatches:
                ValidatePatchPreprocessing(field, p);
                break;
            default:
                Fail($"{field}.kind", $"'{p.Kind}' is not one of {string.Join(", ", KnownPreprocessingKinds)}");
                break;
        }
    }

    private void ValidateOutputModality(string field, OutputModalitySpec om, BundleManifest m)
    {
        if (om.SignalTokens.Count == 0)
        {
            Fail($"{field}.signal_tokens", "must name at least one token");
        }

        RequireComponent($"{field}.output_projector", om.OutputProjector, m);
        RequireComponent($"{field}.generator", om.Generator, m);
        if (om.Width is not null)
        {
            RequirePositive($"{field}.width", om.Width);
        }

        if (om.Height is not null)
        {
            RequirePositive($"{field}.height", om.Height);
        }

        if (om.SampleRate is not null)
        {
            RequirePositive($"{field}.sample_rate", om.SampleRate);
        }

        if (om.ValueRange is { } range && (range.Count != 2 || !(range[0] < range[1])))
        {
            Fail($"{field}.value_range", "must be [min, max] with min < max");
        }

        if (om.PromptTemplate is { } template && !template.Contains(OutputModalitySpec.TextPlaceholder, StringComparison.Ordinal))
        {
            Fail($"{field}.prompt_template", $"must contain {OutputModalitySpec.TextPlaceholder}");
        }

        if (om.Voices is { } voices && (voices.Count == 0 || voices.Any(string.IsNullOrWhiteSpace)))
        {
            Fail($"{field}.voices", "must list at least one non-empty voice name");
        }
    }

    private ComponentSpec? RequireComponent(string field, string name, BundleManifest m)
    {
        if (m.Components.TryGetValue(name, out var component))
        {
            return component;
        }

        Fail(field, $"'{name}' is not defined in components");
        return null;
    }

    /// <summary>
    /// A tensor the manifest names must appear in the component's declared inputs/outputs. Components that
    /// declare no tensors of that direction are not checked (the declaration is optional).
    /// </summary>
    private bool RequireTensor(string field, string tensor, string componentName, IReadOnlyList<TensorSpec> declared,
        string direction)
    {
        if (declared.Count == 0 || declared.Any(t => t.Name == tensor))
        {
            return true;
        }

        Fail(field, $"'{tensor}' is not an {direction} of components.{componentName}");
        return false;
    }

    private void RequireFile(string field, string relativePath)
    {
        if (string.IsNullOrWhiteSpace(relativePath) || Path.IsPathRooted(relativePath))
        {
            Fail(field, $"'{relativePath}' must be a path relative to the bundle folder");
            return;
        }

        // Names come from a file we may have downloaded; never let one point outside the bundle.
        var root = Path.TrimEndingDirectorySeparator(bundleDirectory) + Path.DirectorySeparatorChar;
        var full = Resolve(bundleDirectory, relativePath);
        if (!full.StartsWith(root, StringComparison.Ordinal))
        {
            Fail(field, $"'{relativePath}' points outside the bundle folder");
        }
        else if (!File.Exists(full))
        {
            Fail(field, $"'{relativePath}' does not exist");
        }
    }

    private void RequireToken(string field, string? token, ITextTokenizer tokenizer)
    {
        if (token is not null && tokenizer.TokenToId(token) is null)
        {
            Fail(field, $"'{token}' is not a token of the tokenizer");
        }
    }

    private void RequireUnique(Dictionary<string, string> owners, string token, string field)
    {
        if (!owners.TryAdd(token, field))
        {
            Fail(field, $"'{token}' is already used by {owners[token]}");
        }
    }

    /// <summary>An optional field (absent means its default) that, when present, must be one of the values we implement.</summary>
    private void OneOfIfPresent(string field, string? value, IReadOnlySet<string> allowed)
    {
        if (value is not null && !allowed.Contains(value))
        {
            Fail(field, $"'{value}' is not one of {string.Join(", ", allowed)}");
        }
    }

    private bool RequireChannelTriple(string field, IReadOnlyList<double>? values)
    {
        if (values is { Count: 3 })
        {
            return true;
        }

        Fail(field, values is null ? "is required" : $"must have 3 values (one per channel), got {values.Count}");
        return false;
    }

    private void RequirePositive(string field, int? value)
    {
        if (value is null)
        {
            Fail(field, "is required");
        }
        else
        {
            Positive(field, value.Value);
        }
    }

    private void Positive(string field, int value)
    {
        if (value <= 0)
        {
            Fail(field, $"must be > 0 (got {value.ToString(CultureInfo.InvariantCulture)})");
        }
    }

    private void Fail(string field, string problem) => _errors.Add($"{manifestDisplayPath}: {field} {problem}");
}
