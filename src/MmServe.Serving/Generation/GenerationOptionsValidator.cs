using Microsoft.Extensions.Options;

namespace MmServe.Serving.Generation;

/// <summary>Checks the "Generation" section at start, naming each bad key.</summary>
public sealed class GenerationOptionsValidator : IValidateOptions<GenerationOptions>
{
    public ValidateOptionsResult Validate(string? name, GenerationOptions options)
    {
        var failures = new List<string>();
        if (options.Batching.MaxBatch < 1)
        {
            failures.Add($"Generation:Batching:MaxBatch must be at least 1 (got {options.Batching.MaxBatch}).");
        }

        var wait = options.Batching.MaxWaitMs;
        if (!(wait >= 0) || wait > 10_000)
        {
            failures.Add($"Generation:Batching:MaxWaitMs must be in 0..10000 (got {wait}).");
        }

        if (options.MaxImagesPerRequest < 1)
        {
            failures.Add($"Generation:MaxImagesPerRequest must be at least 1 (got {options.MaxImagesPerRequest}).");
        }

        if (options.MaxInputChars < 1)
        {
            failures.Add($"Generation:MaxInputChars must be at least 1 (got {options.MaxInputChars}).");
        }

        if (options.AudioExpirySeconds < 0)
        {
            failures.Add($"Generation:AudioExpirySeconds must be 0 or more (got {options.AudioExpirySeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
