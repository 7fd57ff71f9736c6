namespace MmServe.Media.Remote;

/// <summary>What one HTTP request of a fetch produced: the media, a redirect to follow, or an error.</summary>
internal sealed class HopOutcome
{
    private HopOutcome(FetchedMedia? media, Uri? redirectTarget, MediaError? error, bool isTransient)
    {
        Media = media;
        RedirectTarget = redirectTarget;
        Error = error;
        IsTransient = isTransient;
    }

    public FetchedMedia? Media { get; }

    public Uri? RedirectTarget { get; }

    public MediaError? Error { get; }

    /// <summary>True only for failures worth another attempt; the retry pipeline keys on this alone.</summary>
    public bool IsTransient { get; }

    public static HopOutcome Content(FetchedMedia media) => new(media, null, null, false);

    public static HopOutcome Redirect(Uri target) => new(null, target, null, false);

    public static HopOutcome Failed(MediaError error) => new(null, null, error, false);

    public static HopOutcome TransientFailure(MediaError error) => new(null, null, error, true);
}
