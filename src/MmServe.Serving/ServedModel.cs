using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using MmServe.Model.Bundle;
using MmServe.Model.Chat;
using MmServe.Model.Tokenization;

namespace MmServe.Serving;

/// <summary>
/// The loaded bundle and everything derived from it that requests share: tokenizer, prompt builder, the id the
/// model is served under. Loading throws <see cref="BundleValidationException"/> for a malformed bundle, which
/// fails the host's start (see <see cref="ModelStartupService"/>).
/// </summary>
public sealed class ServedModel
{
    public const string ImageModality = "image";
    public const string AudioModality = "audio";
    public const string VideoModality = "video";

    public ServedModel(IOptions<ModelOptions> options, IHostEnvironment environment)
    {
        var path = ModelPathResolver.Resolve(options.Value.Path, environment.ContentRootPath)
            ?? throw new InvalidOperationException($"Model:Path '{options.Value.Path}' was not found.");
        Bundle = BundleLoader.Load(path);
        Tokenizer = BundleLoader.LoadTokenizer(Bundle);
        Prompts = PromptBuilder.FromBundle(Bundle, Tokenizer);
        var eos = Bundle.Manifest.Tokenizer.EosTokens.Select(t => Tokenizer.TokenToId(t)!.Value);
        TextDecoder = new TokenTextDecoder(Tokenizer, eos);
        Id = options.Value.Id ?? Bundle.Manifest.Id;
        Created = new DateTimeOffset(File.GetLastWriteTimeUtc(Bundle.ManifestPath)).ToUnixTimeSeconds();
        SystemFingerprint = "fp_" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Bundle.ManifestPath)))[..10];
    }

    public ModelBundle Bundle { get; }

    public ByteLevelBpeTokenizer Tokenizer { get; }

    public PromptBuilder Prompts { get; }

    public TokenTextDecoder TextDecoder { get; }

    /// <summary>The "model" value clients must send.</summary>
    public string Id { get; }

    /// <summary>Unix seconds of the manifest's last change (OpenAI's model "created").</summary>
    public long Created { get; }

    /// <summary>Changes whenever the manifest does, so clients can tell model versions apart.</summary>
    public string SystemFingerprint { get; }

    public int MaxContext => Bundle.Manifest.MaxContext;
}
