using System.Net;

namespace MmServe.Media.Remote;

/// <summary>Sends one GET (no redirect following, no retry) and turns the response into a <see cref="HopOutcome"/>.</summary>
internal sealed class RemoteRequestSender(HttpClient client)
{
    public async ValueTask<HopOutcome> SendAsync(Uri url, int maxBytes, bool isRedirect, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return await InterpretAsync(response, url, maxBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // A failure caused by the deadline or the caller is reported as cancellation, not as a network error.
            cancellationToken.ThrowIfCancellationRequested();
            return TransportFailures.Classify(ex, isRedirect);
        }
    }

    private static async Task<HopOutcome> InterpretAsync(HttpResponseMessage response, Uri url, int maxBytes, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (IsRedirect(response.StatusCode))
        {
            // Location may be relative; the target is checked by the caller like any other URL.
            return response.Headers.Location is { } location && Uri.TryCreate(url, location, out var target)
                ? HopOutcome.Redirect(target)
                : HopOutcome.Failed(RemoteMediaErrors.RedirectWithoutLocation(status));
        }

        if (IsTransient(response.StatusCode))
        {
            return HopOutcome.TransientFailure(RemoteMediaErrors.Status(status));
        }

        if (!response.IsSuccessStatusCode)
        {
            return HopOutcome.Failed(RemoteMediaErrors.Status(status));
        }

        // When the handler decompresses it drops Content-Length, so this is only ever the length of plain bodies;
        // compressed ones are counted after decompression by the reader.
        var contentLength = response.Content.Headers.ContentLength;
        if (contentLength > maxBytes)
        {
            return HopOutcome.Failed(RemoteMediaErrors.ContentLengthTooLarge(contentLength.Value, maxBytes));
        }

        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            var bytes = await BoundedBodyReader.ReadAsync(body, maxBytes, contentLength, cancellationToken).ConfigureAwait(false);
            return bytes is { } content
                ? HopOutcome.Content(new FetchedMedia(content, response.Content.Headers.ContentType?.ToString(), url))
                : HopOutcome.Failed(RemoteMediaErrors.BodyTooLarge(maxBytes));
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable
        or HttpStatusCode.GatewayTimeout;
}
