using Microsoft.Extensions.Options;

namespace MmServe.Api.Auth;

/// <summary>A bad "Auth" value (a malformed or short key, a missing or empty key file, a bad path) stops the start naming the setting.</summary>
internal sealed class ApiKeyOptionsValidator(IHostEnvironment environment) : IValidateOptions<ApiKeyOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiKeyOptions options)
    {
        var failures = new List<string>();
        if (options.Enabled)
        {
            failures.AddRange(ApiKeyLoader.Load(options, environment.ContentRootPath).Errors);
        }

        var paths = options.AnonymousPaths ?? [];
        for (int i = 0; i < paths.Count; i++)
        {
            var path = paths[i];
            if (string.IsNullOrWhiteSpace(path) || path[0] != '/' || path.Any(char.IsWhiteSpace))
            {
                failures.Add($"{ApiKeyOptions.SectionName}:AnonymousPaths:{i} must be a path starting with '/' (e.g. /health).");
            }
            else if (path.TrimEnd('/').Length == 0)
            {
                failures.Add($"{ApiKeyOptions.SectionName}:AnonymousPaths:{i} is '/', which would open every path; leave Auth:ApiKeys and Auth:ApiKeysFile unset to turn keys off.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
