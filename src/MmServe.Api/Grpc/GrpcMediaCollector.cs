using MmServe.Api.Errors;
using MmServe.Api.Serving;
using MmServe.Api.Serving.Media;
using MmServe.Grpc.V1;
using MmServe.Model.Chat;

namespace MmServe.Api.Grpc;

/// <summary>
/// The media parts of one gRPC request, in order: MIME type → modality (and audio container), whether this server
/// serves it, raw bytes or a remote URL (only when remote media is on), and the per-modality count limit — all
/// before anything is read or decoded. Mirrors the REST MessageParser's media rules.
/// </summary>
internal sealed class GrpcMediaCollector(MediaPolicy policy)
{
    private readonly MediaItemList _items = new(policy);

    /// <summary>Every media item in order of appearance; <see cref="ChatPart.Media.Index"/> indexes this list.</summary>
    public IReadOnlyList<MediaReference> Items => _items.Items;

    /// <summary>Validates one media part and records it, or says why not.</summary>
    public ApiError? Add(MediaInput media, string role, string param, List<ChatPart> parts)
    {
        if (string.IsNullOrWhiteSpace(media.MimeType))
        {
            return ApiError.Missing($"{param}.mime_type");
        }

        if (!MediaMimeTypes.TryResolve(media.MimeType, out var modality, out var audioFormat))
        {
            return ApiError.InvalidRequest(
                $"Unsupported MIME type '{media.MimeType}'. Supported types are {string.Join(", ", MediaMimeTypes.All)}.",
                $"{param}.mime_type",
                "unsupported_media_type");
        }

        if (CheckMediaAllowed(role, modality, audioFormat, param) is { } notAllowed)
        {
            return notAllowed;
        }

        var (reference, sourceError) = media.SourceCase switch
        {
            MediaInput.SourceOneofCase.Data when media.Data.Length > 0 => (
                new MediaReference(modality, MediaSourceKind.Bytes, media.MimeType, audioFormat, $"{param}.data") { Bytes = media.Data.Memory },
                null),
            MediaInput.SourceOneofCase.Url => MapUrl(media.Url, modality, audioFormat, $"{param}.url"),
            _ => ((MediaReference?)null, ApiError.Missing($"{param}.data")),
        };

        return sourceError ?? Count(reference!, parts);
    }

    private (MediaReference?, ApiError?) MapUrl(string url, string modality, string? audioFormat, string param)
    {
        if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ApiError.InvalidRequest($"The {modality} URL must be an http(s) URL; send the bytes in 'data' instead.", param, $"invalid_{modality}_url"));
        }

        if (!policy.RemoteEnabled)
        {
            return (null, ApiError.InvalidRequest(
                $"Remote media URLs are disabled on this server; send the {modality} bytes in 'data'.", param, "remote_media_disabled"));
        }

        return (new MediaReference(modality, MediaSourceKind.Remote, url, audioFormat, param), null);
    }

    private ApiError? CheckMediaAllowed(string role, string modality, string? audioFormat, string param)
    {
        if (role != "user")
        {
            return ApiError.InvalidRequest(
                $"{char.ToUpperInvariant(modality[0])}{modality[1..]} content is only allowed in user messages, not in '{role}' messages.", param, "invalid_value");
        }

        if (!policy.Accepts(modality))
        {
            // Declared by the model but not decodable here (a missing tool) is the server's state, not a bad request.
            return policy.Unavailable.ContainsKey(modality)
                ? ApiError.InvalidRequest(policy.WhyNot(modality), param, GrpcErrors.ModalityUnavailable)
                : ApiError.InvalidRequest(policy.WhyNot(modality), param, "unsupported_content_type");
        }

        if (audioFormat is not null && !policy.AudioFormats.Contains(audioFormat))
        {
            return AudioInputPreprocessor.FfmpegFormats.Contains(audioFormat)
                ? ApiError.InvalidRequest(
                    $"{audioFormat} audio needs ffmpeg, which this server does not have; send WAV or MP3.", $"{param}.mime_type", GrpcErrors.AudioFormatUnavailable)
                : ApiError.InvalidRequest($"{audioFormat} audio is not supported.", $"{param}.mime_type", "unsupported_audio_format");
        }

        return null;
    }

    /// <summary>Counts the item against its modality's limit, then records it (as the REST MessageParser does).</summary>
    private ApiError? Count(MediaReference reference, List<ChatPart> parts) => _items.Add(reference, parts);
}
