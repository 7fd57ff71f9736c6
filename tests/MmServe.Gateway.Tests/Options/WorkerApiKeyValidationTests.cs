using MmServe.Gateway.Options;

namespace MmServe.Gateway.Tests.Options;

/// <summary>Gateway:WorkerApiKey goes into an Authorization header: a value that cannot be one stops the start, without quoting it.</summary>
public sealed class WorkerApiKeyValidationTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("sk-gateway-0123456789abcdef", true)]
    [InlineData("sk-gateway 0123456789", false)]
    [InlineData("sk-gateway-0123\n456789", false)]
    public void WorkerApiKey_MustBeUsableInAHeader(string? key, bool valid)
    {
        var options = new GatewayOptions { WorkerApiKey = key, Workers = [new WorkerEntryOptions { Rest = "http://127.0.0.1:8080" }] };

        var result = new GatewayOptionsValidator().Validate(null, options);

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Gateway:WorkerApiKey", result.FailureMessage, StringComparison.Ordinal);
            Assert.DoesNotContain("0123", result.FailureMessage, StringComparison.Ordinal);
        }
    }
}
