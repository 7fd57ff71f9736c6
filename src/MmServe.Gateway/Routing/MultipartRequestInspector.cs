using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace MmServe.Gateway.Routing;

/// <summary>
/// Reads the routing keys of a multipart/form-data upload (POST /v1/audio/transcriptions), held in memory: the
/// "model" field and the key of the "file" part (the audio's bytes, as a chat request carrying the same file gets).
/// </summary>
internal static class MultipartRequestInspector
{
    private const int MaxModelLength = 256;

    public static bool Handles(string? contentType) =>
        contentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;

    public static async Task<RouteKeys> InspectAsync(Stream body, string contentType, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return RouteKeys.None;
        }

        string? model = null;
        var media = new List<AffinityKey>();
        try
        {
            var reader = new MultipartReader(boundary, body);
            while (await reader.ReadNextSectionAsync(ct).ConfigureAwait(false) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "model")
                {
                    using var text = new StreamReader(section.Body);
                    var value = (await text.ReadToEndAsync(ct).ConfigureAwait(false)).Trim();
                    model = value.Length is > 0 and <= MaxModelLength ? value : null;
                }
                else if (name == "file")
                {
                    using var bytes = new MemoryStream();
                    await section.Body.CopyToAsync(bytes, ct).ConfigureAwait(false);
                    media.Add(AffinityKey.Media(bytes.GetBuffer().AsSpan(0, (int)bytes.Length)));
                }
            }
        }
        catch (IOException)
        {
            return RouteKeys.None; // not well-formed multipart: the worker answers it as usual
        }

        return new RouteKeys(model, media, null, false);
    }
}
