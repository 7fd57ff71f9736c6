using MmServe.Api.RateLimits;

namespace MmServe.FunctionalTests.RateLimits;

/// <summary>x-ratelimit-reset-* values are written the way OpenAI writes them (Go durations).</summary>
public sealed class RateLimitHeadersTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(20, "20ms")]
    [InlineData(999.2, "1000ms")]
    [InlineData(1000, "1s")]
    [InlineData(1500, "1.5s")]
    [InlineData(9184.3, "9.185s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(3_661_000, "1h1m1s")]
    public void Durations_AreWrittenAsOpenAiWritesThem(double milliseconds, string expected) =>
        Assert.Equal(expected, RateLimitHeaders.FormatDuration(TimeSpan.FromMilliseconds(milliseconds)));
}
