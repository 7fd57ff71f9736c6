using Polly;
using Polly.Retry;

namespace MmServe.Media.Remote;

/// <summary>Builds the retry pipeline of the fetcher: a few quick, jittered attempts on transient outcomes only.</summary>
internal static class RetryPipelineFactory
{
    // Small on purpose: the whole fetch shares one timeout, and a client is waiting on it.
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    public static ResiliencePipeline<HopOutcome> Create(int maxRetries)
    {
        // Polly requires at least one retry attempt; zero means no retry strategy at all.
        if (maxRetries == 0)
        {
            return ResiliencePipeline<HopOutcome>.Empty;
        }

        return new ResiliencePipelineBuilder<HopOutcome>()
            .AddRetry(new RetryStrategyOptions<HopOutcome>
            {
                MaxRetryAttempts = maxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = BaseDelay,
                MaxDelay = MaxDelay,

                // Exceptions are not handled: expected failures arrive as outcomes, and cancellation must propagate.
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result is { IsTransient: true }),
            })
            .Build();
    }
}
