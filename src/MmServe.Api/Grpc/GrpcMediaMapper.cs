using MmServe.Grpc.V1;
using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;

namespace MmServe.Api.Grpc;

/// <summary>
/// One MediaInput's shape: a known MIME type (which names the modality and, for audio, the container), and either
/// raw bytes or an http(s) URL. Whether the server takes it is for the shared rules to say.
/// </summary>
internal static class GrpcMediaMapper
{
    public static (InputPart?, ServingError?) Map(MediaInput media, string param)
    {
        if (string.IsNullOrWhiteSpace(media.MimeType))
        {
            return (null, ServingError.Missing($"{param}.mime_type"));
        }

        if (!MediaMimeTypes.TryResolve(media.MimeType, out var modality, out var audioFormat))
        {
            return (null, ServingError.Invalid(
                $"Unsupported MIME type '{media.MimeType}'. Supported types are {string.Join(", ", MediaMimeTypes.All)}.",
                $"{param}.mime_type",
                "unsupported_media_type"));
        }

        var formatParam = $"{param}.mime_type";
        switch (media.SourceCase)
        {
            case MediaInput.SourceOneofCase.Data when media.Data.Length > 0:
                return (new InputPart.Media(modality, MediaSourceKind.Bytes, media.MimeType, audioFormat, $"{param}.data", formatParam, param)
                {
                    Bytes = media.Data.Memory,
                }, null);
            case MediaInput.SourceOneofCase.Url:
                var url = media.Url;
                return url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                    ? (new InputPart.Media(modality, MediaSourceKind.Remote, url, audioFormat, $"{param}.url", formatParam, param), null)
                    : (null, ServingError.Invalid(
                        $"The {modality} URL must be an http(s) URL; send the bytes in 'data' instead.", $"{param}.url", $"invalid_{modality}_url"));
            default:
                return (null, ServingError.Missing($"{param}.data"));
        }
    }

    /// <summary>A TensorInput: the modality name and the .npy bytes; the modality's preprocessor checks the array.</summary>
    public static (InputPart?, ServingError?) MapTensor(TensorInput tensor, string param)
    {
        if (string.IsNullOrEmpty(tensor.Modality))
        {
            return (null, ServingError.Missing($"{param}.modality"));
        }

        return tensor.Npy.Length == 0
            ? (null, ServingError.Missing($"{param}.npy"))
            : (new InputPart.Media(tensor.Modality, MediaSourceKind.Bytes, "application/x-npy", null, $"{param}.npy", null, param) { Bytes = tensor.Npy.Memory }, null);
    }
}
