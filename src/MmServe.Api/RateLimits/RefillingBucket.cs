using System.Threading.RateLimiting;

namespace MmServe.Api.RateLimits;

/// <summary>
/// A token bucket holding one minute's allowance, refilled continuously (limit / 60 per second), whose leases can
/// give back what they did not use. System.Threading.RateLimiting's TokenBucketRateLimiter refills in whole
/// periods and cannot take permits back, and a tokens-per-minute limit must reserve prompt + max_tokens at admission
/// and return the difference once the real usage is known. It never queues: a waiting request would hold a
/// connection and an engine slot, so a refusal comes at once with the wait in <see cref="MetadataName.RetryAfter"/>.
/// </summary>
internal sealed class RefillingBucket : RateLimiter
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private double _available;
    private long _updated;
    private long _successful;
    private long _failed;

    public RefillingBucket(int perMinute, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perMinute);
        Limit = perMinute;
        _perSecond = perMinute / 60.0;
        _available = perMinute;
        _time = time;
        _updated = time.GetTimestamp();
    }

    /// <summary>The bucket's size: the per-minute limit.</summary>
    public int Limit { get; }

    /// <summary>How long the bucket has been full (a full bucket is the same as a new one, so its partition may be dropped).</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                double sinceFull = _time.GetElapsedTime(_updated).TotalSeconds - (Limit - _available) / _perSecond;
                return sinceFull >= 0 ? TimeSpan.FromSeconds(sinceFull) : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            Refill();
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = (long)Math.Floor(Math.Max(0, _available)),
                CurrentQueuedCount = 0,
                TotalSuccessfulLeases = _successful,
                TotalFailedLeases = _failed,
            };
        }
    }

    /// <summary>How long until the bucket is full again, i.e. until the limit is back "to its initial state" (OpenAI's reset headers).</summary>
    public TimeSpan TimeUntilFull()
    {
        lock (_lock)
        {
            Refill();
            return TimeSpan.FromSeconds((Limit - _available) / _perSecond);
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_lock)
        {
            Refill();
            if (permitCount > Limit)
            {
                // Could never be granted; no Retry-After, since waiting does not help.
                _failed++;
                return new BucketLease(null, 0, null);
            }

            // Zero permits asks whether anything is left, as the framework's limiters do.
            if (_available >= Math.Max(permitCount, 1))
            {
                _available -= permitCount;
                _successful++;
                return new BucketLease(this, permitCount, null);
            }

            _failed++;
            return new BucketLease(null, 0, TimeSpan.FromSeconds((Math.Max(permitCount, 1) - _available) / _perSecond));
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    /// <summary>Gives back (positive) or charges (negative) permits; the bucket never holds more than its limit.</summary>
    private void Adjust(int permits)
    {
        lock (_lock)
        {
            Refill();
            _available = Math.Min(Limit, _available + permits);
        }
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        _available = Math.Min(Limit, _available + _time.GetElapsedTime(_updated, now).TotalSeconds * _perSecond);
        _updated = now;
    }

    /// <summary>A granted lease can be settled once with the permits really used; a refused one carries the wait.</summary>
    internal sealed class BucketLease(RefillingBucket? bucket, int permits, TimeSpan? retryAfter) : RateLimitLease
    {
        private int _settled;

        public override bool IsAcquired => bucket is not null;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }

        /// <summary>Charges <paramref name="used"/> instead of the permits granted: the difference goes back (or is taken, if more was used).</summary>
        public void Settle(int used)
        {
            if (bucket is not null && Interlocked.Exchange(ref _settled, 1) == 0)
            {
                bucket.Adjust(permits - used);
            }
        }
    }
}
