using Microsoft.Extensions.Options;

namespace MmServe.Serving.Media;

/// <summary>Checks the "Media" section at start, naming each bad key.</summary>
public sealed class MediaOptionsValidator : IValidateOptions<MediaOptions>
{
    public ValidateOptionsResult Validate(string? name, MediaOptions options)
    {
        var failures = new List<string>();
        if (options.EncoderBatching.MaxBatch < 1)
        {
            failures.Add($"Media:EncoderBatching:MaxBatch must be at least 1 (got {options.EncoderBatching.MaxBatch}).");
        }

        var wait = options.EncoderBatching.MaxWaitMs;
        if (!(wait >= 0) || wait > 10_000)
        {
            failures.Add($"Media:EncoderBatching:MaxWaitMs must be in 0..10000 (got {wait}).");
        }

        if (options.EncoderCache.MaxBytes < 0)
        {
            failures.Add($"Media:EncoderCache:MaxBytes must be 0 (off) or more (got {options.EncoderCache.MaxBytes}).");
        }

        try
        {
            options.Remote.Validate();
        }
        catch (ArgumentException e)
        {
            failures.Add($"Media:Remote: {e.Message}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
