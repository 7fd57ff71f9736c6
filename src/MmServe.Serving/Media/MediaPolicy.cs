namespace MmServe.Serving.Media;

/// <summary>
/// What a request may carry, decided once at startup from the served model, the installed tools and the limits:
/// which modalities are accepted (and, when one is not, why), how many items of each, which audio formats, and
/// whether remote URLs are fetched. The request parser checks all of it before any media is read.
/// </summary>
public sealed class MediaPolicy
{
    private readonly Dictionary<string, int> _maxItems;
    private readonly Dictionary<string, string> _unavailable;

    public MediaPolicy(
        IReadOnlyDictionary<string, int> maxItems,
        IReadOnlyDictionary<string, string> unavailableReasons,
        IReadOnlySet<string> audioFormats,
        bool remoteEnabled)
    {
        _maxItems = new(maxItems, StringComparer.Ordinal);
        _unavailable = new(unavailableReasons, StringComparer.Ordinal);
        AudioFormats = audioFormats;
        RemoteEnabled = remoteEnabled;
    }

    /// <summary>input_audio.format values this server decodes (e.g. wav, mp3; flac, ogg... with ffmpeg).</summary>
    public IReadOnlySet<string> AudioFormats { get; }

    /// <summary>Whether http(s) media URLs are fetched (Media:Remote:Enabled).</summary>
    public bool RemoteEnabled { get; }

    /// <summary>Input modalities the model declares that this server cannot serve, with the reason.</summary>
    public IReadOnlyDictionary<string, string> Unavailable => _unavailable;

    public bool Accepts(string modality) => _maxItems.ContainsKey(modality);

    /// <summary>Most items of <paramref name="modality"/> per request.</summary>
    public int MaxItems(string modality) => _maxItems.GetValueOrDefault(modality);

    /// <summary>Why a modality is refused: the model has no such input, or a tool it needs is missing.</summary>
    public string WhyNot(string modality) =>
        _unavailable.TryGetValue(modality, out var reason) ? reason : $"The served model does not take {modality} input.";
}
