using MmServe.Media;
using MmServe.Media.Remote;

namespace MmServe.Serving.Media;

/// <summary>Remote media URLs through the SSRF-hardened <see cref="RemoteMediaFetcher"/> (allowlist, address checks at connect time, byte cap, timeout, retries).</summary>
public sealed class RemoteMediaSource(RemoteMediaFetcher fetcher) : IRemoteMediaSource, IDisposable
{
    public async Task<MediaResult<ReadOnlyMemory<byte>>> FetchAsync(string url, long maxBytes, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return new MediaError(RemoteMediaErrors.ForbiddenCode, "The media URL is not a valid absolute URL.");
        }

        var fetched = await fetcher.FetchAsync(uri, maxBytes, ct).ConfigureAwait(false);
        return fetched.IsSuccess ? fetched.Value.Content : fetched.Error;
    }

    public void Dispose() => fetcher.Dispose();
}
