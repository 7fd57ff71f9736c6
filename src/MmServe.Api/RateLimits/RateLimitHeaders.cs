using System.Globalization;
using System.Text;

namespace MmServe.Api.RateLimits;

/// <summary>
/// OpenAI's rate-limit headers, on every limited response (successes too, so clients can pace themselves):
/// x-ratelimit-limit-requests, -remaining-requests, -reset-requests and the same for tokens. Reset is the time until
/// the limit is whole again, written as OpenAI does ("1s", "6m0s", "20ms"). Only the limits in force are reported.
/// </summary>
internal static class RateLimitHeaders
{
    /// <summary>Written when the response starts, so the tokens reserved by then are counted.</summary>
    public static void WriteOnStarting(HttpContext context, ClientRateLimiters limiters, string client)
    {
        context.Response.OnStarting(() =>
        {
            var (requests, tokens) = limiters.LimitsOf(client);
            var headers = context.Response.Headers;
            if (requests > 0)
            {
                Write(headers, "requests", requests, ClientRateLimiters.State(limiters.Requests, client, requests));
            }

            if (tokens > 0)
            {
                Write(headers, "tokens", tokens, ClientRateLimiters.State(limiters.Tokens, client, tokens));
            }

            return Task.CompletedTask;
        });
    }

    private static void Write(IHeaderDictionary headers, string what, int limit, (long Remaining, TimeSpan Reset) state)
    {
        headers[$"x-ratelimit-limit-{what}"] = limit.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-remaining-{what}"] = Math.Max(0, state.Remaining).ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-reset-{what}"] = FormatDuration(state.Reset);
    }

    /// <summary>Go's duration style, as OpenAI's headers use it: "20ms", "1s", "1.5s", "6m0s", "1h0m0s".</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return "0s";
        }

        if (duration < TimeSpan.FromSeconds(1))
        {
            return $"{Math.Ceiling(duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}ms";
        }

        // Whole milliseconds, rounded up: a client that waits this long finds the limit restored.
        long ms = (long)Math.Ceiling(duration.TotalMilliseconds);
        long hours = ms / 3_600_000, minutes = ms / 60_000 % 60;
        double seconds = ms % 60_000 / 1000.0;
        var text = new StringBuilder();
        if (hours > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{hours}h");
        }

        if (hours > 0 || minutes > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{minutes}m");
        }

        return text.Append(seconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('s').ToString();
    }
}
