using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace MmServe.Serving.Models;

/// <summary>
/// Checks "Models": not mixed with the one-model "Model" keys, every entry's bundle found, ids not blank or repeated,
/// each entry's workers valid. Errors name the key, e.g. "Models:1:Path".
/// </summary>
public sealed class ModelListOptionsValidator(IConfiguration configuration, IHostEnvironment environment) : IValidateOptions<ModelListOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelListOptions options)
    {
        if (options.Models.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        if (!string.IsNullOrEmpty(configuration[$"{ModelOptions.SectionName}:Path"]) || !string.IsNullOrEmpty(configuration[$"{ModelOptions.SectionName}:Id"]))
        {
            return ValidateOptionsResult.Fail(
                "Set either Model:Path / Model:Id (one model) or Models (several, each with Path and Id), not both.");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < options.Models.Count; i++)
        {
            var entry = options.Models[i];
            var key = $"{ModelListOptions.SectionName}:{i}";
            if (string.IsNullOrWhiteSpace(entry.Path) || ModelPathResolver.Resolve(entry.Path, environment.ContentRootPath) is null)
            {
                return ValidateOptionsResult.Fail($"{key}:Path '{entry.Path}' is not a model folder (it has no manifest.json or Hugging Face config.json).");
            }

            if (entry.Id is { } id && (string.IsNullOrWhiteSpace(id) || !ids.Add(id)))
            {
                return ValidateOptionsResult.Fail(string.IsNullOrWhiteSpace(id)
                    ? $"{key}:Id must not be blank (leave it unset to use the manifest's id)."
                    : $"{key}:Id '{id}' is already used by another entry of Models.");
            }

            if (ModelOptionsValidator.DtypeProblem($"{key}:Dtype", entry.Dtype) is { } dtype)
            {
                return ValidateOptionsResult.Fail(dtype);
            }

            if (ModelOptionsValidator.ToolCallFormatProblem($"{key}:ToolCallFormat", entry.ToolCallFormat) is { } toolFormat)
            {
                return ValidateOptionsResult.Fail(toolFormat);
            }

            if (ModelOptions.GenerationConfigProblem($"{key}:GenerationConfig", entry.GenerationConfig) is { } generation)
            {
                return ValidateOptionsResult.Fail(generation);
            }

            if (entry.Workers is { Count: > 0 } workers
                && new WorkerPoolOptionsValidator().Validate(name, new WorkerPoolOptions { Workers = workers }) is { Failed: true } invalid)
            {
                return ValidateOptionsResult.Fail(invalid.FailureMessage.Replace("Workers:", $"{key}:Workers:", StringComparison.Ordinal));
            }
        }

        return ValidateOptionsResult.Success;
    }
}
