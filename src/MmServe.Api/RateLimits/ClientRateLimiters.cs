using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace MmServe.Api.RateLimits;

/// <summary>
/// One requests bucket and one tokens bucket per client, as System.Threading.RateLimiting partitioned limiters
/// (which drop a client's buckets once they have been full for a while, so memory follows the active clients). A
/// client whose limit is 0 gets no bucket.
/// </summary>
internal sealed class ClientRateLimiters : IDisposable
{
    private readonly RateLimitOptions _options;

    public ClientRateLimiters(IOptions<RateLimitOptions> options, TimeProvider time)
    {
        _options = options.Value;
        Requests = PartitionedRateLimiter.Create<string, string>(client => Partition(client, _options.For(client).Requests, time));
        Tokens = PartitionedRateLimiter.Create<string, string>(client => Partition(client, _options.For(client).Tokens, time));
    }

    public PartitionedRateLimiter<string> Requests { get; }

    public PartitionedRateLimiter<string> Tokens { get; }

    public (int Requests, int Tokens) LimitsOf(string client) => _options.For(client);

    /// <summary>What the x-ratelimit-* headers report for one limit: remaining now, and the time until it is whole again.</summary>
    public static (long Remaining, TimeSpan Reset) State(PartitionedRateLimiter<string> limiter, string client, int limit)
    {
        long remaining = limiter.GetStatistics(client)?.CurrentAvailablePermits ?? limit;
        return (remaining, TimeSpan.FromSeconds((limit - remaining) * 60.0 / limit));
    }

    public void Dispose()
    {
        Requests.Dispose();
        Tokens.Dispose();
    }

    private static RateLimitPartition<string> Partition(string client, int perMinute, TimeProvider time) => perMinute > 0
        ? RateLimitPartition.Get(client, _ => new RefillingBucket(perMinute, time))
        : RateLimitPartition.GetNoLimiter(client);
}
