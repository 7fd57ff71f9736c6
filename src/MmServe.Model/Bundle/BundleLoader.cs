using System.Text.Json;
using System.Text.RegularExpressions;
using MmServe.Model.Tokenization;

namespace MmServe.Model.Bundle;

/// <summary>Reads and validates a model bundle folder (manifest.json, tokenizer.json, ONNX files).</summary>
public static partial class BundleLoader
{
    public const string ManifestFileName = "manifest.json";

    /// <summary>The manifest with the decoder component and KV buffer of <paramref name="variant"/> (null: as it is).</summary>
    private static BundleManifest WithDecoderVariant(BundleManifest manifest, string? variant, string variantKey, string manifestDisplayPath)
    {
        if (variant is null)
        {
            return manifest;
        }

        if (!manifest.DecoderVariants.TryGetValue(variant, out var chosen))
        {
            string known = manifest.DecoderVariants.Count == 0 ? "it has none" : $"it has {string.Join(", ", manifest.DecoderVariants.Keys.Order(StringComparer.Ordinal))}";
            throw new BundleValidationException($"{variantKey} '{variant}': {manifestDisplayPath} decoder_variants has no such entry ({known}; or \"decoder\" for its decoder)");
        }

        return manifest with { Decoder = manifest.Decoder with { Component = chosen.Component, KvBuffer = chosen.KvBuffer } };
    }

    /// <summary>
    /// Parses and validates <paramref name="bundleDir"/>/manifest.json, checking that every referenced file exists.
    /// Tokens named by the manifest are checked separately by <see cref="ValidateTokens"/> (or
    /// <see cref="LoadTokenizer"/>), because that needs the tokenizer loaded.
    /// </summary>
    /// <exception cref="BundleValidationException">The bundle is missing or malformed.</exception>
    /// <param name="decoderVariant">A name of the manifest's "decoder_variants" to load instead of its decoder; null for the decoder.</param>
    /// <param name="decoderVariantKey">The setting that named <paramref name="decoderVariant"/>, for the message when the manifest has no such variant.</param>
    public static ModelBundle Load(string bundleDir, string? decoderVariant = null, string decoderVariantKey = "decoder variant")
    {
        // Messages use the path as the caller gave it ("models/x/manifest.json"), which is what an operator typed.
        var manifestDisplayPath = Path.Combine(bundleDir, ManifestFileName);
        var directory = Path.GetFullPath(bundleDir);
        var manifestPath = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            throw new BundleValidationException($"{manifestDisplayPath}: file does not exist");
        }

        var manifest = WithDecoderVariant(Parse(File.ReadAllBytes(manifestPath), manifestDisplayPath), decoderVariant, decoderVariantKey, manifestDisplayPath);
        var validator = new BundleValidator(manifestDisplayPath, directory);
        validator.ValidateManifest(manifest);
        validator.ThrowIfAny();

        var componentPaths = manifest.Components.ToDictionary(
            c => c.Key, c => BundleValidator.Resolve(directory, c.Value.File), StringComparer.Ordinal);
        return new ModelBundle(
            directory,
            manifestPath,
            manifest,
            BundleValidator.Resolve(directory, manifest.Tokenizer.File),
            manifest.ChatTemplate.File is { } template ? BundleValidator.Resolve(directory, template) : null,
            componentPaths);
    }

    /// <summary>Loads the bundle's tokenizer.json and checks the manifest's tokens against it.</summary>
    /// <exception cref="BundleValidationException">tokenizer.json is malformed or unsupported, or lacks a token.</exception>
    public static ByteLevelBpeTokenizer LoadTokenizer(ModelBundle bundle)
    {
        ByteLevelBpeTokenizer tokenizer;
        try
        {
            tokenizer = ByteLevelBpeTokenizer.Load(bundle.TokenizerPath);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or JsonException or IOException)
        {
            throw new BundleValidationException(e.Message, e);
        }

        ValidateTokens(bundle, tokenizer);
        return tokenizer;
    }

    /// <summary>
    /// Checks that every token the manifest names (EOS/pad/BOS, media placeholders, output signal tokens) is a
    /// single token of <paramref name="tokenizer"/>, and that the decoder's logits cover all token ids.
    /// </summary>
    /// <exception cref="BundleValidationException">Some token is missing.</exception>
    public static void ValidateTokens(ModelBundle bundle, ITextTokenizer tokenizer)
    {
        var validator = new BundleValidator(bundle.ManifestPath, bundle.Directory);
        validator.ValidateTokens(bundle.Manifest, tokenizer);
        validator.ThrowIfAny();
    }

    internal static BundleManifest Parse(byte[] json, string displayPath)
    {
        try
        {
            return JsonSerializer.Deserialize(json, BundleJsonContext.Default.BundleManifest)
                ?? throw new BundleValidationException($"{displayPath}: the manifest is null");
        }
        catch (JsonException e)
        {
            throw new BundleValidationException($"{displayPath}: {DescribeJsonError(e)}", e);
        }
    }

    /// <summary>Rewrites System.Text.Json's messages into "field.path problem" form.</summary>
    private static string DescribeJsonError(JsonException e)
    {
        var path = FieldPath(e.Path);
        var missing = MissingPropertiesPattern().Match(e.Message);
        if (missing.Success)
        {
            var names = missing.Groups["names"].Value.Split(", ").Select(n => n.Trim('\''));
            return string.Join("; ", names.Select(n => $"{Join(path, n)} is required"));
        }

        var field = path.Length == 0 ? "the manifest" : path;
        var line = e.LineNumber is { } n ? $" (line {n + 1})" : "";
        if (e.Message.Contains("null values", StringComparison.Ordinal))
        {
            return $"{field} must not be null{line}";
        }

        if (e.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"{field} has the wrong JSON type{line}";
        }

        // Syntax errors: System.Text.Json's own text, minus the path/position suffix we already give.
        var detail = e.Message;
        var cut = detail.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut >= 0)
        {
            detail = detail[..cut];
        }

        return $"invalid JSON near {field}{line}: {detail}";
    }

    /// <summary>"$.decoder.num_kv_heads" -> "decoder.num_kv_heads"; "$['components']['x']" keeps brackets readable.</summary>
    private static string FieldPath(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$")
        {
            return "";
        }

        var path = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');
        return BracketKeyPattern().Replace(path, m => "." + m.Groups["key"].Value).TrimStart('.');
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    [GeneratedRegex(@"missing required properties including: (?<names>.+?)\.?$")]
    private static partial Regex MissingPropertiesPattern();

    [GeneratedRegex(@"\['(?<key>[^']*)'\]")]
    private static partial Regex BracketKeyPattern();
}
