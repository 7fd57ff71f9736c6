namespace MmServe.FunctionalTests.Auth;

/// <summary>A bad Auth, RateLimits or Cors value stops the start with a message naming the setting — and never quoting a key.</summary>
public sealed class SecurityConfigurationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Auth:ApiKeys:0", "sk-tooshort", "Auth:ApiKeys:0: the key is shorter than 16 characters" },
        { "Auth:ApiKeysFile", "/no/such/api-keys", "Auth:ApiKeysFile: cannot read '/no/such/api-keys'" },
        { "Auth:AnonymousPaths:0", "/", "Auth:AnonymousPaths:0 is '/'" },
        { "Auth:AnonymousPaths:0", "health", "Auth:AnonymousPaths:0 must be a path" },
        { "Auth:ApiKey", "sk-test-0123456789abcdef", "Auth:ApiKey is not a setting (Auth takes ApiKeys, ApiKeysFile, AnonymousPaths)" }, // a typo of ApiKeys is not silently ignored
        { "RateLimits:RequestsPerMinute", "-1", "RateLimits:RequestsPerMinute must be 0" },
        { "RateLimits:Keys:nobody:TokensPerMinute", "100", "RateLimits:Keys:nobody sets limits for an API key, but no API keys are configured" },
        { "Cors:Origins:0", "https://app.example.com/path", "Cors:Origins:0 must be" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task BadSetting_FailsStartNamingTheKey(string key, string value, string expected)
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?> { [key] = value });

        var error = Assert.ThrowsAny<Exception>(factory.StartServer);

        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("sk-tooshort", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverrideForAnUnknownKeyName_FailsStartListingTheNames()
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = $"alice {TestApiKeys.Alice}",
            ["RateLimits:Keys:alcie:RequestsPerMinute"] = "5",
        });

        var error = Assert.ThrowsAny<Exception>(factory.StartServer);

        Assert.Contains("RateLimits:Keys:alcie names no configured API key (names: alice)", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestApiKeys.Alice, error.ToString(), StringComparison.Ordinal);
    }
}
