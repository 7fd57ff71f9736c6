using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using MmServe.Api.RateLimits;

namespace MmServe.FunctionalTests.RateLimits;

/// <summary>The per-minute bucket behind both limits: continuous refill, the wait of a refusal, and settling a reservation.</summary>
public sealed class RefillingBucketTests
{
    private readonly ManualTime _time = new();

    private static long Available(RateLimiter limiter) => limiter.GetStatistics()!.CurrentAvailablePermits;

    [Fact]
    public void FullMinute_IsGrantedAtOnce_ThenRefusedWithTheWaitForOnePermit()
    {
        using var bucket = new RefillingBucket(6, _time);
        for (int i = 0; i < 6; i++)
        {
            Assert.True(bucket.AttemptAcquire().IsAcquired);
        }

        using var refused = bucket.AttemptAcquire();

        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(10), wait);
        Assert.Equal(TimeSpan.FromSeconds(60), bucket.TimeUntilFull());
    }

    [Fact]
    public void Permits_ComeBackEvenlyOverTheMinute()
    {
        using var bucket = new RefillingBucket(600, _time);
        Assert.True(bucket.AttemptAcquire(600).IsAcquired);

        _time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(150, Available(bucket));
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(600, Available(bucket)); // never more than one minute's worth
    }

    [Fact]
    public void Settle_GivesBackWhatWasNotUsed_Once()
    {
        using var bucket = new RefillingBucket(1000, _time);
        var lease = Assert.IsType<RefillingBucket.BucketLease>(bucket.AttemptAcquire(300));
        Assert.Equal(700, Available(bucket));

        lease.Settle(40);
        lease.Settle(0);

        Assert.Equal(960, Available(bucket));
    }

    [Fact]
    public void Settle_ChargesMoreThanReserved_WhenMoreWasUsed()
    {
        using var bucket = new RefillingBucket(1000, _time);
        var lease = Assert.IsType<RefillingBucket.BucketLease>(bucket.AttemptAcquire(100));

        lease.Settle(250);

        Assert.Equal(750, Available(bucket));
    }

    [Fact]
    public void MoreThanTheLimit_IsRefusedWithoutAWait()
    {
        using var bucket = new RefillingBucket(100, _time);

        using var lease = bucket.AttemptAcquire(101);

        Assert.False(lease.IsAcquired);
        Assert.False(lease.TryGetMetadata(MetadataName.RetryAfter, out _));
        Assert.Equal(100, Available(bucket));
    }

    [Fact]
    public void IdleDuration_StartsOnlyOnceTheBucketIsFullAgain()
    {
        using var bucket = new RefillingBucket(60, _time);
        Assert.Equal(TimeSpan.Zero, bucket.IdleDuration);
        bucket.AttemptAcquire(30);
        Assert.Null(bucket.IdleDuration);

        _time.Advance(TimeSpan.FromSeconds(40));

        Assert.Equal(TimeSpan.FromSeconds(10), bucket.IdleDuration);
    }

    [Fact]
    public void ThroughThePartitionedLimiter_ClientsAreApart_AndLeasesCanStillBeSettled()
    {
        var options = Options.Create(new RateLimitOptions { RequestsPerMinute = 2, TokensPerMinute = 1000 });
        options.Value.Keys["big"] = new KeyRateLimitOptions { TokensPerMinute = 5000, RequestsPerMinute = 0 };
        using var limiters = new ClientRateLimiters(options, _time);

        var lease = Assert.IsType<RefillingBucket.BucketLease>(limiters.Tokens.AttemptAcquire("ip:10.0.0.1", 800));
        lease.Settle(100);

        Assert.Equal(900, limiters.Tokens.GetStatistics("ip:10.0.0.1")!.CurrentAvailablePermits);
        Assert.Equal(1000, limiters.Tokens.GetStatistics("ip:10.0.0.2")!.CurrentAvailablePermits);
        Assert.Equal(5000, limiters.Tokens.GetStatistics("key:big")!.CurrentAvailablePermits);
        Assert.All(Enumerable.Range(0, 10), _ => Assert.True(limiters.Requests.AttemptAcquire("key:big").IsAcquired)); // 0: no request limit
        Assert.True(limiters.Requests.AttemptAcquire("key:small").IsAcquired);
        Assert.True(limiters.Requests.AttemptAcquire("key:small").IsAcquired);
        Assert.False(limiters.Requests.AttemptAcquire("key:small").IsAcquired);
    }
}
