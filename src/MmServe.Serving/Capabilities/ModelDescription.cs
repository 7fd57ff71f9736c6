using MmServe.Serving.Generation;
using MmServe.Serving.Media;

namespace MmServe.Serving.Capabilities;

/// <summary>
/// The served model as every API describes it (GET /v1/models, mmserve.v1.ModelService): built once from the
/// bundle, the media the server can decode here, the generators and where the engine workers really run.
/// </summary>
public sealed class ModelDescription(ServedModel model, MediaEmbedder media, IMediaGenerator generator, WorkerPlacements? placements = null)
{
    public const string Owner = "mmserve";

    private readonly Lazy<ModelCapabilities> _capabilities = new(() => Describe(model, media, generator, placements));

    public string Id => model.Id;

    /// <summary>Unix seconds of the manifest's last change.</summary>
    public long Created => model.Created;

    public ModelCapabilities Capabilities => _capabilities.Value;

    private static ModelCapabilities Describe(ServedModel model, MediaEmbedder media, IMediaGenerator generator, WorkerPlacements? placements)
    {
        var policy = media.Policy;
        var limits = media.ServedModalities
            .Select(m => new MediaLimit(m, policy.MaxItems(m), media.Modality(m).Preprocessor.MaxEncodedBytes))
            .ToList();
        return new ModelCapabilities(
            ["text", .. media.ServedModalities],
            ["text", .. generator.Modalities.Keys.Order(StringComparer.Ordinal)],
            model.MaxContext,
            new SortedDictionary<string, string>(policy.Unavailable.ToDictionary(), StringComparer.Ordinal),
            limits,
            [.. MediaMimeTypes.All.Where(t => Accepts(policy, t))])
        {
            Voices = generator.Modalities.TryGetValue(ServedModel.AudioModality, out var audio) ? audio.Voices : null,
            ImageSizes = generator.Modalities.TryGetValue(ServedModel.ImageModality, out var image) && image.Size is { } size ? [size] : null,
            Workers = placements?.All ?? [],
            OnnxRuntime = new OnnxRuntimeBuild(Runtime.Onnx.Execution.OrtBuild.Flavor, Runtime.Onnx.Execution.OrtBuild.RuntimeVersion),
        };
    }

    private static bool Accepts(MediaPolicy policy, string mimeType)
    {
        var (modality, audioFormat) = MediaMimeTypes.Resolve(mimeType);
        return policy.Accepts(modality) && (audioFormat is null || policy.AudioFormats.Contains(audioFormat));
    }
}

/// <summary>What the served model takes and produces here.</summary>
/// <param name="InputModalities">"text" then the media modalities served, sorted.</param>
/// <param name="OutputModalities">"text" then the generated modalities, sorted.</param>
/// <param name="MaxContext">Context window in tokens.</param>
/// <param name="UnavailableInputs">Modalities the model takes that this server cannot decode, with the reason (sorted).</param>
/// <param name="MediaLimits">Per served media modality: items per request and encoded bytes per item.</param>
/// <param name="AcceptedMimeTypes">MIME types whose items this server decodes.</param>
public sealed record ModelCapabilities(
    IReadOnlyList<string> InputModalities,
    IReadOnlyList<string> OutputModalities,
    int MaxContext,
    IReadOnlyDictionary<string, string> UnavailableInputs,
    IReadOnlyList<MediaLimit> MediaLimits,
    IReadOnlyList<string> AcceptedMimeTypes)
{
    /// <summary>Voices of audio output, or null when the model makes no audio.</summary>
    public IReadOnlyList<string>? Voices { get; init; }

    /// <summary>Image sizes ("64x64") of image output, or null when the model draws none.</summary>
    public IReadOnlyList<string>? ImageSizes { get; init; }

    /// <summary>Where each engine worker runs (execution provider it got, fallback reason, KV cache); empty without ONNX executors.</summary>
    public IReadOnlyList<WorkerPlacement> Workers { get; init; } = [];

    /// <summary>The ONNX Runtime build flavour and version.</summary>
    public OnnxRuntimeBuild? OnnxRuntime { get; init; }
}

/// <summary>Limits of one media modality.</summary>
public sealed record MediaLimit(string Modality, int MaxItemsPerRequest, long MaxBytes);
