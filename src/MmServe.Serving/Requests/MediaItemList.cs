using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Model.Chat;

namespace MmServe.Serving.Requests;

/// <summary>
/// A request's media items in order of appearance, counted against each modality's per-request limit as they are
/// parsed (before any is read or decoded). Shared by the REST message parser and the gRPC request mapper, so both
/// refuse the same requests with the same error.
/// </summary>
public sealed class MediaItemList(MediaPolicy policy)
{
    private readonly List<MediaReference> _items = [];
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    public IReadOnlyList<MediaReference> Items => _items;

    /// <summary>Counts the item against its modality's limit, then records it and its place in <paramref name="parts"/>.</summary>
    public ServingError? Add(MediaReference reference, List<ChatPart> parts)
    {
        int count = _counts.GetValueOrDefault(reference.Modality) + 1;
        int max = policy.MaxItems(reference.Modality);
        if (count > max)
        {
            var plural = reference.Modality switch
            {
                ServedModel.AudioModality => "audio clips",
                ServedModel.VideoModality => "videos",
                ServedModel.ImageModality => "images",
                _ => $"{reference.Modality} tensors",
            };
            return ServingError.Invalid(
                $"Too many {plural}: at most {max} {plural} are allowed per request.", "messages", $"too_many_{plural.Replace(' ', '_')}");
        }

        _counts[reference.Modality] = count;
        parts.Add(new ChatPart.Media(reference.Modality, _items.Count));
        _items.Add(reference);
        return null;
    }
}
