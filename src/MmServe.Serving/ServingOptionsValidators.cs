using Microsoft.Extensions.Options;
using MmServe.Engine;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Serving;

/// <summary>Checks "Model"; a missing bundle fails start with the key and the folders searched.</summary>
public sealed class ModelOptionsValidator(IHostEnvironment environment) : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        if (options.Id is { } id && string.IsNullOrWhiteSpace(id))
        {
            return ValidateOptionsResult.Fail("Model:Id must not be blank (leave it unset to use the manifest's id).");
        }

        if (DtypeProblem("Model:Dtype", options.Dtype) is { } dtype)
        {
            return ValidateOptionsResult.Fail(dtype);
        }

        if (ToolCallFormatProblem("Model:ToolCallFormat", options.ToolCallFormat) is { } format)
        {
            return ValidateOptionsResult.Fail(format);
        }

        if (ModelOptions.GenerationConfigProblem("Model:GenerationConfig", options.GenerationConfig) is { } generation)
        {
            return ValidateOptionsResult.Fail(generation);
        }

        if (ModelPathResolver.Resolve(options.Path, environment.ContentRootPath) is null)
        {
            var roots = string.Join(", ", ModelPathResolver.SearchRoots(options.Path, environment.ContentRootPath));
            return ValidateOptionsResult.Fail(
                string.IsNullOrWhiteSpace(options.Path)
                    ? $"Model:Path is not set and no {ModelPathResolver.DefaultRelativePath}/manifest.json was found under: {roots}."
                    : Path.IsPathRooted(options.Path)
                        ? $"Model:Path '{options.Path}' is not a model folder (it has no manifest.json or Hugging Face config.json)."
                        : $"Model:Path '{options.Path}' is not a model folder (no manifest.json or config.json under: {roots}).");
        }

        return ValidateOptionsResult.Success;
    }

    /// <summary>A tool-call format the server does not read.</summary>
    public static string? ToolCallFormatProblem(string key, string? format) =>
        format is null or "hermes" or "llama3_json" or "mistral" ? null : $"{key} '{format}' is not one of hermes, llama3_json, mistral.";

    /// <summary>A Dtype that names no ONNX variant transformers.js knows.</summary>
    public static string? DtypeProblem(string key, string? dtype) =>
        dtype is null || Model.HuggingFace.HfDtype.Suffixes.ContainsKey(dtype)
            ? null
            : $"{key} '{dtype}' is not one of {string.Join(", ", Model.HuggingFace.HfDtype.Suffixes.Keys)}.";
}

/// <summary>Checks the "Workers" list.</summary>
public sealed class WorkerPoolOptionsValidator : IValidateOptions<WorkerPoolOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerPoolOptions options)
    {
        var failures = new List<string>();
        if (options.Workers.Count == 0)
        {
            failures.Add("Workers must list at least one worker.");
        }

        for (int i = 0; i < options.Workers.Count; i++)
        {
            var worker = options.Workers[i];
            if (!IsDevice(worker.Device))
            {
                failures.Add($"{options.SettingPath}:{i}:Device '{worker.Device}' is not supported; use \"cpu\", \"cuda\" or \"cuda:N\".");
            }

            if (worker.IntraOpThreads < 0)
            {
                failures.Add($"{options.SettingPath}:{i}:IntraOpThreads must be 0 (ONNX Runtime's default) or more.");
            }

            if (worker.GpuMemLimitMb < 0)
            {
                failures.Add($"{options.SettingPath}:{i}:GpuMemLimitMb must be 0 (no limit) or more.");
            }

            if (!WorkerOptions.ArenaExtendStrategies.ContainsKey(worker.ArenaExtendStrategy ?? string.Empty))
            {
                failures.Add($"{options.SettingPath}:{i}:ArenaExtendStrategy '{worker.ArenaExtendStrategy}' is not one of {string.Join(", ", WorkerOptions.ArenaExtendStrategies.Keys)}.");
            }

            if (!WorkerOptions.CudnnConvAlgoSearches.ContainsKey(worker.CudnnConvAlgoSearch ?? string.Empty))
            {
                failures.Add($"{options.SettingPath}:{i}:CudnnConvAlgoSearch '{worker.CudnnConvAlgoSearch}' is not one of {string.Join(", ", WorkerOptions.CudnnConvAlgoSearches.Keys)}.");
            }

            // A CPU build can never give a CUDA worker its GPU: say so now rather than when the sessions are created.
            // (CUDA libraries or a GPU that are missing are found when the worker's sessions are created.)
            if (IsDevice(worker.Device) && IsCuda(worker.Device) && !OrtBuild.HasCuda && !worker.AllowCpuFallback)
            {
                failures.Add(new ExecutionProviderUnavailableException($"{options.SettingPath}:{i}", worker.Device, ExecutionProviderUnavailableException.CpuBuildReason).Message);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsCuda(string device) => device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase);

    private static bool IsDevice(string? device) =>
        device is not null
        && (device.Equals("cpu", StringComparison.OrdinalIgnoreCase)
            || device.Equals("cuda", StringComparison.OrdinalIgnoreCase)
            || (device.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(device.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)));
}

/// <summary>Checks "Engine" (the engine would refuse the same values later, without naming the key).</summary>
public sealed class EngineOptionsValidator : IValidateOptions<EngineOptions>
{
    public ValidateOptionsResult Validate(string? name, EngineOptions options)
    {
        var failures = new List<string>();
        if (options.MaxQueuedRequests <= 0)
        {
            failures.Add("Engine:MaxQueuedRequests must be at least 1.");
        }

        if (options.MaxBatchSize < 0)
        {
            failures.Add("Engine:MaxBatchSize must be 0 (the executor's limit) or more.");
        }

        if (options.MaxNumBatchedTokens <= 0)
        {
            failures.Add("Engine:MaxNumBatchedTokens must be at least 1.");
        }

        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            failures.Add("Engine:ShutdownTimeout must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks "Limits".</summary>
public sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions options)
    {
        var failures = new List<string>();
        if (options.MaxImagesPerRequest < 0)
        {
            failures.Add("Limits:MaxImagesPerRequest must be 0 (no images) or more.");
        }

        if (options.MaxAudioPerRequest < 0)
        {
            failures.Add("Limits:MaxAudioPerRequest must be 0 (no audio) or more.");
        }

        if (options.MaxVideosPerRequest < 0)
        {
            failures.Add("Limits:MaxVideosPerRequest must be 0 (no videos) or more.");
        }

        if (options.MaxRequestBodyBytes <= 0)
        {
            failures.Add("Limits:MaxRequestBodyBytes must be at least 1.");
        }

        try
        {
            options.Image.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            failures.Add($"Limits:Image:{e.ParamName} is out of range (got {e.ActualValue}).");
        }

        try
        {
            options.Audio.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            failures.Add($"Limits:Audio:{e.ParamName} is out of range (got {e.ActualValue}).");
        }

        try
        {
            options.Video.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            failures.Add($"Limits:Video:{e.ParamName} is out of range (got {e.ActualValue}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
