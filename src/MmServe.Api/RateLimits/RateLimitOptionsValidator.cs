using Microsoft.Extensions.Options;
using MmServe.Api.Auth;

namespace MmServe.Api.RateLimits;

/// <summary>Negative limits, and overrides for keys that do not exist (a typo would silently leave a key on the defaults), stop the start.</summary>
internal sealed class RateLimitOptionsValidator(IOptions<ApiKeyOptions> auth, IHostEnvironment environment) : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        CheckLimit(failures, "RequestsPerMinute", options.RequestsPerMinute);
        CheckLimit(failures, "TokensPerMinute", options.TokensPerMinute);
        if (options.Keys.Count > 0)
        {
            var names = auth.Value.Enabled
                ? ApiKeyLoader.Load(auth.Value, environment.ContentRootPath).Store?.Names ?? []
                : [];
            foreach (var (key, limits) in options.Keys)
            {
                CheckLimit(failures, $"Keys:{key}:RequestsPerMinute", limits.RequestsPerMinute ?? 0);
                CheckLimit(failures, $"Keys:{key}:TokensPerMinute", limits.TokensPerMinute ?? 0);
                if (!auth.Value.Enabled)
                {
                    failures.Add($"{RateLimitOptions.SectionName}:Keys:{key} sets limits for an API key, but no API keys are configured (Auth:ApiKeys or Auth:ApiKeysFile).");
                }
                else if (names.Count > 0 && !names.Contains(key, StringComparer.OrdinalIgnoreCase))
                {
                    failures.Add($"{RateLimitOptions.SectionName}:Keys:{key} names no configured API key (names: {string.Join(", ", names)}).");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckLimit(List<string> failures, string key, int value)
    {
        if (value < 0)
        {
            failures.Add($"{RateLimitOptions.SectionName}:{key} must be 0 (no limit) or more (got {value}).");
        }
    }
}
