using System.Threading.RateLimiting;
using MmServe.Api.Errors;
using MmServe.Serving.Admission;
using MmServe.Serving.Errors;

namespace MmServe.Api.RateLimits;

/// <summary>The edges' way to the tokens-per-minute limit: the client's <see cref="ITokenBudget"/>, or null when its tokens are not limited.</summary>
internal sealed class TokenBudgets(ClientRateLimiters? limiters)
{
    public ITokenBudget? For(HttpContext context)
    {
        if (limiters is null)
        {
            return null;
        }

        var client = RateLimitClient.Of(context);
        int limit = limiters.LimitsOf(client).Tokens;
        return limit > 0 ? new ClientTokenBudget(limiters.Tokens, client, limit) : null;
    }

    private sealed class ClientTokenBudget(PartitionedRateLimiter<string> tokens, string client, int limit) : ITokenBudget
    {
        public (ITokenReservation? Reservation, ServingError? Refused) Reserve(int promptTokens, int maxCompletionTokens)
        {
            int requested = (int)Math.Min(int.MaxValue, (long)promptTokens + maxCompletionTokens);
            var lease = tokens.AttemptAcquire(client, requested);
            if (lease is RefillingBucket.BucketLease { IsAcquired: true } granted)
            {
                return (new Reservation(granted), null);
            }

            lease.Dispose();
            string asked = $"Requested {requested} ({promptTokens} in the prompt + {maxCompletionTokens} for the completion)";
            return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                ? (null, new ServingError(
                    ServingErrorKind.RateLimited,
                    ApiError.RateLimitExceededCode,
                    $"Rate limit reached for tokens per minute (TPM): Limit {limit}, {asked}. Please try again in {RateLimitHeaders.FormatDuration(retryAfter)}.")
                    { RetryAfter = retryAfter })
                : (null, new ServingError(
                    ServingErrorKind.RateLimited,
                    ApiError.RateLimitExceededCode,
                    $"Request too large for tokens per minute (TPM): Limit {limit}, {asked}. Lower max_tokens or shorten the input."));
        }
    }

    private sealed class Reservation(RefillingBucket.BucketLease lease) : ITokenReservation
    {
        public void Settle(int usedTokens) => lease.Settle(usedTokens);
    }
}
