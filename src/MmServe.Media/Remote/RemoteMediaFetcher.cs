using System.Net;
using Polly;

namespace MmServe.Media.Remote;

/// <summary>
/// Downloads media that a client referenced by URL, under <see cref="RemoteMediaOptions"/>: allowlisted hosts
/// only, never a private or reserved address (checked on the address actually connected to, and on every
/// redirect), a byte cap counted after decompression, one total timeout and a few retries on transient errors.
/// Thread-safe; create one per application and dispose it at shutdown.
/// </summary>
public sealed class RemoteMediaFetcher : IDisposable
{
    private const string UserAgent = "MmServe-RemoteMedia/1.0";

    private readonly RemoteMediaOptions options;
    private readonly RemoteUrlPolicy urlPolicy;
    private readonly HttpClient client;
    private readonly RemoteRequestSender sender;
    private readonly ResiliencePipeline<HopOutcome> retryPipeline;

    /// <exception cref="ArgumentException">The options are invalid (see <see cref="RemoteMediaOptions.Validate"/>).</exception>
    public RemoteMediaFetcher(RemoteMediaOptions options)
        : this(options, Dns.GetHostAddressesAsync)
    {
    }

    /// <param name="resolveHost">Name lookup; tests substitute one that maps invented names to local addresses.</param>
    internal RemoteMediaFetcher(RemoteMediaOptions options, Func<string, CancellationToken, Task<IPAddress[]>> resolveHost)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resolveHost);
        options.Validate();
        this.options = options;

        var addressPolicy = new AddressPolicy(options.AllowedNetworks);
        urlPolicy = new RemoteUrlPolicy(options, new HostAllowlist(options.AllowedDomains), addressPolicy);
        client = CreateClient(new GuardedConnector(addressPolicy, resolveHost));
        sender = new RemoteRequestSender(client);
        retryPipeline = RetryPipelineFactory.Create(options.MaxRetries);
    }

    /// <summary>
    /// Fetches <paramref name="url"/>, following allowed redirects. Every expected failure (policy, size, timeout,
    /// network, HTTP status) is returned as a <see cref="MediaError"/> with a client-safe message.
    /// </summary>
    /// <param name="maxBytes">Largest body accepted, counted after decompression; at most <see cref="Array.MaxLength"/>.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the caller gave up).</exception>
    public async Task<MediaResult<FetchedMedia>> FetchAsync(Uri url, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);

        // The body is returned as one array.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBytes, Array.MaxLength);
        if (!options.Enabled)
        {
            return RemoteMediaErrors.Disabled();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
        try
        {
            return await FollowRedirectsAsync(url, (int)maxBytes, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return RemoteMediaErrors.Timeout(options.TimeoutSeconds);
        }
    }

    public void Dispose() => client.Dispose();

    private async Task<MediaResult<FetchedMedia>> FollowRedirectsAsync(Uri url, int maxBytes, CancellationToken cancellationToken)
    {
        var current = url;
        for (var redirects = 0; ; redirects++)
        {
            var isRedirect = redirects > 0;
            if (urlPolicy.Check(current, isRedirect) is { } refusal)
            {
                return refusal;
            }

            // Retries wrap a single hop, so a transient failure after a redirect does not restart the chain.
            var outcome = await retryPipeline.ExecuteAsync(
                static (state, token) => state.sender.SendAsync(state.current, state.maxBytes, state.isRedirect, token),
                (sender, current, maxBytes, isRedirect),
                cancellationToken).ConfigureAwait(false);

            if (outcome.Media is { } media)
            {
                return MediaResult<FetchedMedia>.Success(media);
            }

            if (outcome.Error is { } error)
            {
                return error;
            }

            if (redirects == options.MaxRedirects)
            {
                return RemoteMediaErrors.TooManyRedirects(options.MaxRedirects);
            }

            current = outcome.RedirectTarget!;
        }
    }

    private static HttpClient CreateClient(GuardedConnector connector)
    {
        var handler = new SocketsHttpHandler
        {
            // Redirects are followed by FollowRedirectsAsync so that every target passes the URL policy.
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate | DecompressionMethods.Brotli,
            ConnectCallback = connector.ConnectAsync,

            // A proxy would resolve and connect on our behalf, bypassing the address check in the connector.
            UseProxy = false,
            UseCookies = false,

            // An abandoned (too large) body is not drained for connection reuse: the connection is dropped instead.
            MaxResponseDrainSize = 0,

            // Pooled connections were checked when opened; recycling them lets DNS changes take effect.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        };

        // The total deadline is enforced per fetch by FetchAsync; HttpClient's own would double-count.
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        return client;
    }
}
